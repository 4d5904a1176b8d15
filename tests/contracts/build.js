// Compiles Emitter.sol with the solc npm package pinned in package.json and prints the
// artifact (ABI, creation bytecode, compiler) as JSON. Run from the repository root:
//   node tests/contracts/build.js > tests/contracts/Emitter.json
"use strict";
const fs = require("fs");
const path = require("path");
const solc = require("solc");

const source = fs.readFileSync(path.join(__dirname, "Emitter.sol"), "utf8");
const input = {
  language: "Solidity",
  sources: { "Emitter.sol": { content: source } },
  settings: {
    evmVersion: "cancun",
    optimizer: { enabled: true, runs: 200 },
    metadata: { bytecodeHash: "none" },
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
  },
};
const output = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (output.errors || []).filter((e) => e.severity === "error");
if (errors.length) {
  for (const e of errors) console.error(e.formattedMessage);
  process.exit(1);
}
const contract = output.contracts["Emitter.sol"].Emitter;
const artifact = {
  compiler: "solc " + solc.version(),
  settings: input.settings,
  abi: contract.abi,
  bytecode: "0x" + contract.evm.bytecode.object,
};
process.stdout.write(JSON.stringify(artifact, null, 1) + "\n");
