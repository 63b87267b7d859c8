/** Where the built console lives, for the collector to serve. */
export declare const consoleDir: URL;
