// Compiles every contract in src/ with the solc pinned in package.json and
// writes build/<Name>.abi and build/<Name>.bin for abigen. Output is
// deterministic (sorted, no metadata hash) so re-running leaves git clean.
'use strict';

const fs = require('fs');
const path = require('path');
const solc = require('solc');

// The contracts the Go side deploys or binds; helpers such as Owned and the
// interfaces are compiled as dependencies but get no build artefacts.
const CONTRACTS = ['Controller', 'RoundsManager', 'BondingManager', 'TicketBroker', 'Multicall3'];

// Contracts whose runtime code is also written (build/<Name>.bin-runtime):
// the embedded dev chain places it in its genesis state at a fixed address
// instead of deploying it.
const RUNTIME = ['Multicall3'];

const srcDir = path.join(__dirname, 'src');
const buildDir = path.join(__dirname, 'build');

const sources = {};
for (const f of fs.readdirSync(srcDir).sort()) {
  if (f.endsWith('.sol')) {
    sources[f] = { content: fs.readFileSync(path.join(srcDir, f), 'utf8') };
  }
}

const input = {
  language: 'Solidity',
  sources,
  settings: {
    // go-ethereum's simulated backend runs the latest forks; cancun is the
    // newest target this solc and every geth we care about agree on.
    evmVersion: 'cancun',
    optimizer: { enabled: true, runs: 200 },
    // Without this the bytecode embeds a hash of the source paths and
    // comments, so harmless edits would churn the committed .bin files.
    metadata: { bytecodeHash: 'none', appendCBOR: false },
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
  },
};

const output = JSON.parse(solc.compile(JSON.stringify(input)));
let failed = false;
for (const e of output.errors || []) {
  process.stderr.write(e.formattedMessage || e.message);
  if (e.severity === 'error') failed = true;
}
if (failed) {
  process.exit(1);
}

fs.mkdirSync(buildDir, { recursive: true });
for (const name of CONTRACTS) {
  const unit = output.contracts[`${name}.sol`];
  if (!unit || !unit[name]) {
    process.stderr.write(`contract ${name} not found in ${name}.sol\n`);
    process.exit(1);
  }
  const c = unit[name];
  fs.writeFileSync(path.join(buildDir, `${name}.abi`), JSON.stringify(c.abi, null, 2) + '\n');
  fs.writeFileSync(path.join(buildDir, `${name}.bin`), c.evm.bytecode.object + '\n');
  if (RUNTIME.includes(name)) {
    fs.writeFileSync(path.join(buildDir, `${name}.bin-runtime`), c.evm.deployedBytecode.object + '\n');
  }
}
process.stdout.write(`solc ${solc.version()}: compiled ${CONTRACTS.join(', ')}\n`);
