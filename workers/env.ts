// Temporary shim while other branches still import the config from here; removed at their merge.
export * from "../src/config";
