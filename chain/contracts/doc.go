// Package contracts holds the dev contracts (Controller, RoundsManager,
// BondingManager, TicketBroker) that stand in for the Livepeer protocol on
// the simulated dev chain, and their abigen bindings.
//
// The contracts are written for this project from the protocol facts in
// shared/PROTOCOL.md: their selectors, event signatures, ticket hash,
// signature and winning rules, and reserve allocation match the public
// protocol, so the redeemer and its tests exercise the same ABI they meet on
// Arbitrum. Staking and inflation are absent; owner-only hooks set the active
// transcoders, pool size, round length, validity and unlock periods instead.
//
// Layout:
//
//	src/*.sol        Solidity sources
//	build/*.abi,bin  compiler output (committed)
//	*.go             abigen v1 bindings (generated, committed)
//	package.json     pins the solc compiler (npm package "solc")
//	compile.js       standard-JSON compile of src/ into build/
//	compile.sh       npm ci + compile.js + abigen
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
