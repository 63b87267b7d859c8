/** Where the built console lives, for the collector to serve. */
export const consoleDir = new URL("./dist/", import.meta.url);
