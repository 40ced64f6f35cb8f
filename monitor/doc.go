// Package monitor keeps each sender's on-chain state current and computes
// its max float (see PROTOCOL.md, max float).
//
//   - MaxFloat and ReserveAlloc compute a float from stored state.
//   - SenderStage is the leader's pipeline stage that follows the chain: it
//     reads TicketBroker and RoundsManager logs by block range from its
//     stored cursor, re-reads the senders those logs name (and the protocol
//     state when a round may have changed), and commits state and cursor in
//     one transaction. A fork below the cursor rewinds it; a cursor too far
//     behind jumps to the tip and has every tracked sender re-read instead
//     of replaying logs. RereadStage does those re-reads (after a reorg or a
//     jump, at each new round, for senders with open tickets but no state)
//     a batch per run at background priority, so SenderStage never waits
//     on them.
//   - Monitor answers any replica's questions about one sender: the stored
//     state when the sender is tracked, a short-lived cached chain read when
//     it is a stranger (long-lived when the stranger is unfunded, so a flood
//     of unknown addresses costs one read each), and Track to make a sender
//     one the leader follows.
//   - Writes go through store.SaveChainState, which announces every float
//     change with pg_notify in the same transaction, as the redemption
//     stages' in-limbo changes are announced.
//   - Hub follows those announcements on one LISTEN connection per process
//     and delivers each subscribed sender's new float, read after the
//     announcing transaction committed, to its subscribers (the gRPC
//     streams).
package monitor
