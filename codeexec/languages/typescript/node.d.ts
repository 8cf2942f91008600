// What a program run by Node.js may use, for tsc (Debian ships no @types/node):
// Node's globals and modules are `any`; everything else is type-checked as written.
declare var require: any;
declare var module: any;
declare var exports: any;
declare var process: any;
declare var Buffer: any;
declare var console: any;
declare var __dirname: string;
declare var __filename: string;
declare module "*";
