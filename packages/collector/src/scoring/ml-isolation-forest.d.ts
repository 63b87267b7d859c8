/** Types for ml-isolation-forest 0.1.0 (it ships none); used only as the reference in tests. */
declare module 'ml-isolation-forest' {
  export class IsolationForest {
    constructor(options?: { nEstimators?: number });
    train(trainingSet: number[][]): void;
    predict(data: number[][]): number[];
  }
}
