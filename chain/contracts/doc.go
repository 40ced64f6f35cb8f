// Package contracts holds the dev contracts (Controller, RoundsManager,
// BondingManager, TicketBroker, Multicall3) that stand in for the Livepeer
// protocol on the dev chain, and their abigen bindings.
//
// The contracts are written for this project to behave like the protocol's
// contracts deployed on Arbitrum in everything the redeemer relies on:
// selectors and events, the ticket hash, signature and winning rules, the
// order of TicketBroker's redemption checks and their revert reasons, the
// reserve allocation (including claimableReserve's revert when the pool
// grows mid-round), payment into the recipient's fee pool in BondingManager,
// a batch that skips failing tickets with no out-of-gas guard, rounds
// counted in L1 blocks (block number / l2BlocksPerL1), and a pausable
// Controller. Staking and inflation are absent; owner-only hooks set the
// registered and active transcoders, pool size, round length, validity and
// unlock periods instead. Where the dev contracts do less work than the
// protocol's, they burn ballast gas (GasBallast.sol) so that receipts cost
// what they cost on Arbitrum. Multicall3 has the ABI of the widely deployed
// read aggregator; the embedded chain places its runtime code at the
// canonical address.
//
// Layout:
//
//	src/*.sol                Solidity sources
//	build/*.abi,bin          compiler output (committed)
//	build/*.bin-runtime      deployed code, for contracts put in a genesis state
//	*.go                     abigen v1 bindings (generated, committed) and
//	                         runtime.go, which embeds the runtime code
//	package.json             pins the solc compiler (npm package "solc")
//	compile.js               standard-JSON compile of src/ into build/
//	compile.sh               npm ci + compile.js + abigen
//
// Building and testing need neither node nor npm: the build output and the
// bindings are committed. After editing a source, regenerate everything with
//
//	bash chain/contracts/compile.sh   (or: make contracts)
//
// and commit the changed build/ files and bindings together with the source.
// The script is idempotent: compiling unchanged sources reproduces the
// committed files byte for byte (the metadata hash is disabled for that).
package contracts
