// Package monitor keeps each sender's on-chain state current from chain
// events and computes its max float (see PROTOCOL.md, max float). It is built
// in the max float issue.
package monitor
