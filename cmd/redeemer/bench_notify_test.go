package main

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"redeemer/store"
	"redeemer/store/storetest"
)

// notifyFloor measures the floor of every float delivery: one committed
// write that notifies, received by a LISTEN session on the same server. It
// runs in a database of its own, so its rows never mix with the service's.
// The write and the notification go in one autocommit statement (one round
// trip, one commit with its WAL flush), the least any LISTEN/NOTIFY design
// can do to tell another session about a committed change.
type notifyFloor struct {
	writer   *pgx.Conn
	received chan time.Time
	seq      int
}

const floorChannel = "bench_floor"

func newNotifyFloor(b testing.TB) *notifyFloor {
	b.Helper()
	ctx := context.Background()
	dsn := storetest.New(b)
	writer, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { writer.Close(context.Background()) })
	if _, err := writer.Exec(ctx, `CREATE TABLE floor_row (id int PRIMARY KEY, v bigint NOT NULL);
		INSERT INTO floor_row VALUES (1, 0)`); err != nil {
		b.Fatal(err)
	}
	listener, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := listener.Exec(ctx, "LISTEN "+floorChannel); err != nil {
		b.Fatal(err)
	}
	f := &notifyFloor{writer: writer, received: make(chan time.Time, 1)}
	lctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if _, err := listener.WaitForNotification(lctx); err != nil {
				return
			}
			f.received <- time.Now()
		}
	}()
	b.Cleanup(func() {
		cancel()
		<-done
		listener.Close(context.Background())
	})
	return f
}

// roundTrip commits one notifying write and returns the time until the
// listener had it.
func (f *notifyFloor) roundTrip(b testing.TB) time.Duration {
	b.Helper()
	f.seq++
	t0 := time.Now()
	if _, err := f.writer.Exec(context.Background(), `WITH u AS (UPDATE floor_row SET v = v + 1 WHERE id = 1 RETURNING v)
		SELECT pg_notify('`+floorChannel+`', v::text) FROM u`); err != nil {
		b.Fatalf("floor notify: %v", err)
	}
	select {
	case at := <-f.received:
		return at.Sub(t0)
	case <-time.After(10 * time.Second):
		b.Fatal("floor notification not received within 10s")
		return 0
	}
}

// sample takes n round trips and returns them sorted.
func (f *notifyFloor) sample(b testing.TB, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = f.roundTrip(b)
	}
	sortDurations(out)
	return out
}

// floatWatch is the benchmark's own LISTEN session on the service's float
// channel: it stamps each notification as it arrives, which is when the
// change it announces was committed and delivered to listeners.
type floatWatch struct {
	mu   sync.Mutex
	seen []floatNote
}

type floatNote struct {
	at      time.Time
	payload string
}

func newFloatWatch(b testing.TB, dsn string) *floatWatch {
	b.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+store.FloatChannel); err != nil {
		b.Fatal(err)
	}
	w := &floatWatch{}
	lctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			n, err := conn.WaitForNotification(lctx)
			if err != nil {
				return
			}
			w.mu.Lock()
			w.seen = append(w.seen, floatNote{at: time.Now(), payload: n.Payload})
			w.mu.Unlock()
		}
	}()
	b.Cleanup(func() {
		cancel()
		<-done
		conn.Close(context.Background())
	})
	return w
}

// first returns the first notification after t whose payload is one of
// payloads (any payload when none are given), waiting up to within.
func (w *floatWatch) first(b testing.TB, after time.Time, within time.Duration, payloads ...string) floatNote {
	b.Helper()
	deadline := time.Now().Add(within)
	for {
		w.mu.Lock()
		for _, n := range w.seen {
			if !n.at.After(after) {
				continue
			}
			if len(payloads) == 0 {
				w.mu.Unlock()
				return n
			}
			for _, p := range payloads {
				if n.payload == p {
					w.mu.Unlock()
					return n
				}
			}
		}
		w.mu.Unlock()
		if time.Now().After(deadline) {
			b.Fatalf("no max_float notification %v after %s within %s", payloads, after.Format(time.StampMicro), within)
		}
		time.Sleep(time.Millisecond)
	}
}

func sortDurations(d []time.Duration) { slices.Sort(d) }

func fmtMS(d time.Duration) string { return strconv.FormatFloat(ms(d), 'f', 2, 64) + " ms" }
