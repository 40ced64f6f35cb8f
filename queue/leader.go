package queue

import (
	"context"
	"log/slog"
	"time"

	"redeemer/store"
)

// RunAsLeader runs lead while this process holds the leader lock, and waits
// for the lock otherwise, until ctx ends. The context lead gets ends as soon
// as the lock's session is found gone, checked every interval: from then on
// another replica may lead, so this one must stop broadcasting.
func RunAsLeader(ctx context.Context, st *store.Store, log *slog.Logger, interval time.Duration,
	onChange func(leader bool), lead func(ctx context.Context) error) error {
	for {
		lock, err := st.TryLeaderLock(ctx)
		if err != nil {
			log.Warn("leader lock unavailable", "err", err)
		}
		if lock != nil {
			log.Info("became leader: this replica redeems tickets")
			onChange(true)
			err := leadWhileLocked(ctx, lock, interval, lead)
			lock.Release(context.WithoutCancel(ctx))
			onChange(false)
			if ctx.Err() != nil {
				return nil
			}
			log.Warn("stopped leading", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(interval):
		}
	}
}

func leadWhileLocked(ctx context.Context, lock *store.LeaderLock, interval time.Duration, lead func(context.Context) error) error {
	lctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-lctx.Done():
				return
			case <-t.C:
			}
			cctx, c := context.WithTimeout(lctx, interval)
			err := lock.Alive(cctx)
			c()
			if err != nil && lctx.Err() == nil {
				cancel(err)
				return
			}
		}
	}()
	err := lead(lctx)
	if cause := context.Cause(lctx); cause != nil && ctx.Err() == nil {
		return cause
	}
	return err
}
