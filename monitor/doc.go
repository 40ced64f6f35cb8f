// Package monitor keeps each sender's on-chain state current and computes
// its max float (see PROTOCOL.md, max float).
//
//   - MaxFloat and ReserveAlloc compute a float from stored state.
//   - Monitor writes the state: the leader's poller hands it every head
//     (HandleHead), and any replica reads a sender it does not track yet
//     (Refresh, MaxFloat). Writes go through store.SaveChainState, which
//     announces every float change with pg_notify in the same transaction,
//     as the redemption worker's in-limbo changes are announced.
//   - Hub follows those announcements on one LISTEN connection per process
//     and delivers each subscribed sender's new float, read after the
//     announcing transaction committed, to its subscribers (the gRPC
//     streams).
package monitor
