//go:build chaos

package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"math/big"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"

	"redeemer/rpc/pb"
)

// chaosSeed is REDEEMER_CHAOS_SEED, or a fresh seed; the test logs it so a
// failing schedule can be replayed.
func chaosSeed(t *testing.T) uint64 {
	t.Helper()
	if s := os.Getenv("REDEEMER_CHAOS_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("REDEEMER_CHAOS_SEED=%q: %v", s, err)
		}
		return v
	}
	return uint64(time.Now().UnixNano())
}

// replicaSlot is one replica position: a fixed gRPC address and whichever
// process currently serves it.
type replicaSlot struct {
	name   string
	addr   string
	client pb.TicketRedeemerClient

	mu   sync.Mutex
	p    *proc
	gens int
}

func (s *replicaSlot) current() *proc {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.p
}

// start runs a new serve process on the slot's address and waits until it
// listens. cluster.serve picks an address of its own; the later
// --grpc-addr wins, so clients keep one address across restarts.
func (s *replicaSlot) start(c *cluster) {
	c.t.Helper()
	s.mu.Lock()
	s.gens++
	name := fmt.Sprintf("%s#%d", s.name, s.gens)
	s.mu.Unlock()
	// The leader sends one transaction a head, so on 1 s blocks --max-batch
	// is the redemption rate; 20 a head keeps the bounded run within its
	// budget, where the default 10 would leave a backlog to drain after
	// the intake.
	args := append(append([]string(nil), chaosServeArgs...), "--max-batch", "20", "--grpc-addr", s.addr)
	p, _ := c.serve(name, args...)
	s.mu.Lock()
	s.p = p
	s.mu.Unlock()
}

// dialQuick dials with a short reconnect backoff: the default grows to two
// minutes, far longer than a restart takes.
func dialQuick(t *testing.T, addr string) pb.TicketRedeemerClient {
	t.Helper()
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{InsecureSkipVerify: true})),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.5, MaxDelay: 500 * time.Millisecond},
			MinConnectTimeout: 2 * time.Second,
		}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return pb.NewTicketRedeemerClient(conn)
}

// TestChaosKillLoop queues 1,000 tickets from four senders, due at
// staggered blocks, through two `serve` replicas on geth --dev, while one
// replica or the other (leader or follower, as the seeded schedule falls),
// and now and then both at once, is SIGKILLed, 30 SIGKILLs in all, each
// process restarted at once. Afterwards every stored
// ticket is redeemed, each hash exactly once on chain, the redemption
// nonces have no gap, nothing is in limbo, and each sender's float from the
// service equals the formula from chain reads; one sender's large tickets
// draw on its reserve, so that check is not of an untouched reserve.
// REDEEMER_CHAOS_LONG=1 runs 3,000 tickets and 100 kills.
func TestChaosKillLoop(t *testing.T) {
	tickets, kills := 1000, 30
	if chaosLong() {
		tickets, kills = 3000, 100
	}
	seed := chaosSeed(t)
	t.Logf("seed %d (REDEEMER_CHAOS_SEED=%d replays the schedule); %d tickets, %d kills", seed, seed, tickets, kills)
	killRNG := rand.New(rand.NewPCG(seed, 1))
	ticketRNG := rand.New(rand.NewPCG(seed, 2))

	const senders, roundLength = 4, 60
	began := time.Now()
	bin := buildBinary(t)
	node := startGethWithContracts(t, bin, roundLength, senders)
	c := newClusterOn(t, bin, node)
	slots := []*replicaSlot{{name: "replica-a", addr: stableAddr(t)}, {name: "replica-b", addr: stableAddr(t)}}
	for _, s := range slots {
		s.start(c)
		s.client = dialQuick(t, s.addr)
	}
	slots[0].current().waitLog(t, "became leader", 60*time.Second)
	o := c.orchestratorAt(slots[0].addr)
	signer := newChaosSigner(t, o)
	setup := time.Since(began)

	// Intake: every ticket is retried, on the other replica first, until
	// one acknowledges it; a repeat of a stored ticket is stored once.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		accepted  []common.Hash
		intakeErr error
		retries   int
		progress  atomic.Int64
	)
	intakeDone := make(chan struct{})
	const pace = 30 * time.Millisecond
	go func() {
		defer close(intakeDone)
		for i := 0; i < tickets; i++ {
			sender := i % senders
			face := big.NewInt(2e15)
			if i%(tickets/10) == senders-1 {
				// Ten tickets of 1.5 ETH on a 10 ETH deposit, whatever the
				// run's length: the last sender's reserve pays about 5 ETH
				// and its 10 ETH still cover the rest.
				face = new(big.Int).Div(wholeEther(3), big.NewInt(2))
			}
			deadline := time.Now().Add(2 * time.Minute)
			var (
				m *pb.Ticket
				h common.Hash
			)
			for attempt := 0; ; attempt++ {
				err := func() error {
					cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
					defer ccancel()
					// A send cut off by a kill may have stored the ticket:
					// the retry must be the same ticket, not a new one.
					if m == nil {
						head, err := c.eth.BlockNumber(cctx)
						if err != nil {
							return err
						}
						if m, h, err = signer.sign(cctx, sender, face, head+2+uint64(ticketRNG.IntN(10))); err != nil {
							return err
						}
					}
					if _, err := slots[(i+attempt)%len(slots)].client.QueueTicket(cctx, m); err != nil {
						return err
					}
					accepted = append(accepted, h)
					progress.Add(1)
					return nil
				}()
				if err == nil {
					break
				}
				retries++
				if ctx.Err() != nil || time.Now().After(deadline) {
					intakeErr = fmt.Errorf("ticket %d not accepted within 2m: %w", i, err)
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
			time.Sleep(pace)
		}
	}()

	// Kills: at random points of the intake (when so many tickets are
	// acknowledged, plus up to half a second), of a random replica, each
	// once the previous restart listens, so they spread over the whole run
	// whatever its speed on this machine.
	at := make([]int, kills)
	for k := range at {
		at[k] = killRNG.IntN(tickets)
	}
	slices.Sort(at)
	var leaderKills, bothDown int
	loopStart := time.Now()
	for k := 0; k < kills; {
		for progress.Load() < int64(at[k]) {
			select {
			case <-intakeDone:
				t.Fatalf("intake ended at %d tickets before kill %d (due at ticket %d): %v", progress.Load(), k, at[k], intakeErr)
			case <-time.After(20 * time.Millisecond):
			}
		}
		time.Sleep(time.Duration(killRNG.IntN(500)) * time.Millisecond)
		victims := []*replicaSlot{slots[killRNG.IntN(len(slots))]}
		// Now and then the whole cluster dies at once: no replica takes
		// tickets, and the next leader starts from the database alone.
		if k+len(slots) <= kills && killRNG.IntN(5) == 0 {
			victims = slots
			bothDown++
		}
		for _, s := range victims {
			p := s.current()
			if strings.Contains(p.logs.String(), "became leader") {
				leaderKills++
			}
			p.kill()
		}
		for _, s := range victims {
			s.start(c)
		}
		k += len(victims)
	}
	<-intakeDone
	killPhase := time.Since(loopStart)
	if intakeErr != nil {
		t.Fatal(intakeErr)
	}
	t.Logf("%d kills (%d of the leader; %d times both replicas at once) over %s of intake; %d tickets acknowledged (%d retried sends); setup took %s",
		kills, leaderKills, bothDown, killPhase.Round(time.Millisecond), len(accepted), retries, setup.Round(time.Millisecond))
	if leaderKills == 0 || leaderKills == kills {
		t.Logf("note: this schedule killed only one role (%d leader kills of %d)", leaderKills, kills)
	}

	if len(accepted) != tickets {
		t.Fatalf("%d tickets acknowledged, want %d", len(accepted), tickets)
	}
	settle := time.Now()
	c.waitAllFinal(o, 4*time.Minute)
	if stored := o.rows(""); stored != tickets {
		t.Fatalf("%d tickets stored, want %d (every ticket once)", stored, tickets)
	}
	c.checkInvariants(o, accepted)
	c.checkFloats(o, 30*time.Second)
	c.checkRounds(context.Background(), roundLength)
	var redemptions, replaced int
	if err := o.db.QueryRow(context.Background(),
		`SELECT count(DISTINCT r.id), count(a.id) - count(DISTINCT r.id) FROM redemptions r JOIN tx_attempts a ON a.redemption_id = r.id`).
		Scan(&redemptions, &replaced); err != nil {
		t.Fatal(err)
	}
	t.Logf("tickets postponed or requeued on the way: %s", postponements(t, o))
	t.Logf("all %d tickets redeemed once in %d transactions (%d replacement attempts); settled %s after the last kill; whole test %s",
		tickets, redemptions, replaced, time.Since(settle).Round(time.Millisecond), time.Since(began).Round(time.Second))
}

// postponements summarizes the ticket events that delayed a ticket
// (postponed, or put back in the queue), by reason.
func postponements(t *testing.T, o *orchestrator) string {
	t.Helper()
	rows, err := o.db.Query(context.Background(), `
		SELECT left(coalesce(reason, ''), 70), count(*) FROM ticket_events
		 WHERE from_status = to_status OR to_status = 'queued'
		 GROUP BY 1 ORDER BY 2 DESC LIMIT 8`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var parts []string
	for rows.Next() {
		var reason string
		var n int
		if err := rows.Scan(&reason, &n); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, fmt.Sprintf("%d× %q", n, reason))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "; ")
}

// stableAddr is a free loopback address outside the kernel's ephemeral port
// range, for a replica that is restarted on the same address many times: a
// port from that range (what freeAddr gives) can be handed to another
// socket, even the restarted process's own metrics listener or database
// connection, in the moment between a kill and the restart.
func stableAddr(t *testing.T) string {
	t.Helper()
	lo, hi := 20000, 32768 // below Linux's default ip_local_port_range
	if blob, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(blob)); len(f) == 2 {
			if first, err := strconv.Atoi(f[0]); err == nil && first > 1024 {
				hi = first
				lo = max(1024, hi-12768)
			}
		}
	}
	for range 1000 {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(lo+rand.IntN(hi-lo)))
		l, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		l.Close()
		return addr
	}
	t.Fatalf("no free loopback port in [%d, %d)", lo, hi)
	return ""
}
