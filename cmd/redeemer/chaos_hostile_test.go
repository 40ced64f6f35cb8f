//go:build chaos

package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"math/big"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"redeemer/chain"
	"redeemer/rpc"
	"redeemer/rpc/pb"
	"redeemer/store/storetest"
)

// clientFrom dials addr from a loopback address of its own, as a client on
// another host would: the service's budgets are per client address.
func clientFrom(t *testing.T, addr, from string) pb.TicketRedeemerClient {
	t.Helper()
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{InsecureSkipVerify: true})),
		grpc.WithContextDialer(func(ctx context.Context, target string) (net.Conn, error) {
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
			return d.DialContext(ctx, "tcp", target)
		}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return pb.NewTicketRedeemerClient(conn)
}

var metricsAddrRE = regexp.MustCompile(`metrics and health endpoints listening.* addr=(\S+)`)

// metricsAddr is the HTTP address a serve process logged.
func (p *proc) metricsAddr(t *testing.T) string {
	t.Helper()
	p.waitLog(t, "metrics and health endpoints listening", 30*time.Second)
	m := metricsAddrRE.FindStringSubmatch(p.logs.String())
	if m == nil {
		t.Fatalf("%s logged no metrics address", p.name)
	}
	return m[1]
}

// TestChaosHostileClients runs the service under what anyone who can reach
// its port can send for free: unfunded keys queuing winning tickets (due
// at block 0, and with a plausible due block), MaxFloat for random
// addresses, from other client addresses than the orchestrator's; while a
// funded sender's genuine tickets keep coming. Every genuine ticket must be
// redeemed within 10 blocks of due, the leader's processed head must never
// lag more than 8 blocks, no junk ticket may be stored, and the tracked
// senders must stay the genuine ones.
func TestChaosHostileClients(t *testing.T) {
	const (
		blockTime  = 250 * time.Millisecond
		junkKeys   = 100
		junkPerSec = 100
		floatCalls = 10000
		genuineHz  = 2
		maxDueLag  = 10
		maxHeadLag = 8
	)
	run := 30 * time.Second
	if chaosLong() {
		run = 3 * time.Minute
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	infoPath := filepath.Join(dir, "chain.json")
	chainProc := startProc(t, "chain", bin, "dev", "--chain-only", "--eth-rpc-addr", "127.0.0.1:0",
		"--block-time", blockTime.String(), "--round-length", "400", "--data-dir", filepath.Join(dir, "chain"),
		"--info-file", infoPath)
	info := waitInfo(t, chainProc, infoPath)
	eth, err := ethclient.Dial(info.EthRPCURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eth.Close)
	c := &cluster{t: t, bin: bin, dsn: storetest.New(t), info: info, eth: eth}
	leader, addr := c.serve("serve", "--poll-interval", "250ms", "--confirmations", "1")
	leader.waitLog(t, "became leader", 30*time.Second)
	metrics := "http://" + leader.metricsAddr(t) + "/metrics"
	o := c.orchestratorAt(addr)
	signer := newChaosSigner(t, o)
	genuine := common.HexToAddress(info.Senders[0].Address)

	ctx, stop := context.WithTimeout(context.Background(), run)
	defer stop()
	var wg sync.WaitGroup

	// Junk: 100 unfunded keys, 100 tickets a second, half due at block 0.
	junk := make([]*ecdsa.PrivateKey, junkKeys)
	for i := range junk {
		k, err := crypto.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		junk[i] = k
	}
	var junkSent, junkOK atomic.Int64
	junkCodes := sync.Map{}
	for w := 0; w < 4; w++ {
		client := clientFrom(t, addr, "127.0.0."+strconv.Itoa(2+w))
		wg.Go(func() {
			tick := time.NewTicker(time.Second / (junkPerSec / 4))
			defer tick.Stop()
			for i := w; ; i += 4 {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				m, err := junkTicket(ctx, signer, junk[i%junkKeys], i%2 == 0)
				if err != nil {
					continue // the node answered slowly; the next tick tries again
				}
				junkSent.Add(1)
				_, err = client.QueueTicket(ctx, m)
				if err == nil {
					junkOK.Add(1)
				}
				code := status.Code(err)
				n, _ := junkCodes.LoadOrStore(code, new(atomic.Int64))
				n.(*atomic.Int64).Add(1)
			}
		})
	}

	// MaxFloat for random addresses, from other client addresses.
	var floatsAsked, floatsRefused atomic.Int64
	for w := 0; w < 4; w++ {
		client := clientFrom(t, addr, "127.0.0."+strconv.Itoa(10+w))
		wg.Go(func() {
			for floatsAsked.Load() < floatCalls && ctx.Err() == nil {
				var a [20]byte
				rand.Read(a[:])
				floatsAsked.Add(1)
				cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				_, err := client.MaxFloat(cctx, &pb.MaxFloatReq{Sender: a[:]})
				cancel()
				if status.Code(err) == codes.ResourceExhausted {
					floatsRefused.Add(1)
				}
			}
		})
	}

	// The leader's processed head, sampled.
	var maxLag atomic.Int64
	wg.Go(func() {
		for ctx.Err() == nil {
			if v, ok := scrapeMetrics(t, metrics).value("redeemer_head_lag_blocks"); ok && int64(v) > maxLag.Load() {
				maxLag.Store(int64(v))
			}
			time.Sleep(500 * time.Millisecond)
		}
	})

	// Genuine tickets at 2 a second, each due a few blocks on.
	var genuineHashes []common.Hash
	tick := time.NewTicker(time.Second / genuineHz)
	for ctx.Err() == nil {
		<-tick.C
		head, err := c.eth.BlockNumber(ctx)
		if err != nil {
			continue
		}
		m, h, err := signer.sign(ctx, 0, big.NewInt(1e15), head+4)
		if err != nil {
			continue
		}
		if _, err := o.client.QueueTicket(context.Background(), m); err != nil {
			t.Errorf("genuine ticket refused: %v", err)
			continue
		}
		genuineHashes = append(genuineHashes, h)
	}
	tick.Stop()
	wg.Wait()
	c.waitAllFinal(o, 60*time.Second)

	// Every genuine ticket redeemed within maxDueLag blocks of due.
	rows, err := o.db.Query(context.Background(), `SELECT t.params_expiration_block, r.mined_block, t.status
		FROM tickets t LEFT JOIN redemptions r ON r.id = t.redemption_id WHERE t.sender = $1`, genuine.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var worst int64
	var redeemed int
	for rows.Next() {
		var due int64
		var mined *int64
		var st string
		if err := rows.Scan(&due, &mined, &st); err != nil {
			t.Fatal(err)
		}
		if st != "redeemed" || mined == nil {
			t.Errorf("genuine ticket due at %d ended %s", due, st)
			continue
		}
		redeemed++
		worst = max(worst, *mined-due)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if redeemed != len(genuineHashes) || redeemed == 0 {
		t.Errorf("%d genuine tickets redeemed of %d queued", redeemed, len(genuineHashes))
	}
	if worst > maxDueLag {
		t.Errorf("a genuine ticket was mined %d blocks after it was due, want at most %d", worst, maxDueLag)
	}
	if lag := maxLag.Load(); lag > maxHeadLag {
		t.Errorf("the leader's processed head lagged %d blocks, want at most %d", lag, maxHeadLag)
	}
	if n := o.rows("WHERE sender <> $1", genuine.Bytes()); n != 0 {
		t.Errorf("%d junk tickets stored", n)
	}
	if junkOK.Load() != 0 {
		t.Errorf("%d junk tickets answered OK", junkOK.Load())
	}
	var tracked int
	if err := o.db.QueryRow(context.Background(), `SELECT count(*) FROM senders`).Scan(&tracked); err != nil {
		t.Fatal(err)
	}
	if tracked > len(info.Senders) {
		t.Errorf("%d senders tracked after the flood, want at most the %d dev senders", tracked, len(info.Senders))
	}
	var codesSeen []string
	junkCodes.Range(func(k, v any) bool {
		codesSeen = append(codesSeen, fmt.Sprintf("%s=%d", k.(codes.Code), v.(*atomic.Int64).Load()))
		return true
	})
	t.Logf("hostile load over %s: %d junk tickets sent (%v), %d MaxFloat calls for random addresses (%d refused for the caller's budget); "+
		"%d genuine tickets redeemed, the latest %d blocks after due; leader head lag at most %d blocks; %d senders tracked",
		run, junkSent.Load(), codesSeen, floatsAsked.Load(), floatsRefused.Load(), redeemed, worst, maxLag.Load(), tracked)
}

// junkTicket is a winning ticket to the recipient from a key with no funds:
// due at block 0 when zeroDue, else at a plausible block.
func junkTicket(ctx context.Context, s *chaosSigner, key *ecdsa.PrivateKey, zeroDue bool) (*pb.Ticket, error) {
	round, err := s.protocol.LastInitializedRound(ctx)
	if err != nil {
		return nil, err
	}
	bh, err := s.protocol.BlockHashForRound(ctx, round)
	if err != nil {
		return nil, err
	}
	due := big.NewInt(0)
	if !zeroDue {
		n, err := s.protocol.LatestBlock(ctx)
		if err != nil {
			return nil, err
		}
		due.SetUint64(n + 4)
	}
	tk := chain.Ticket{
		Recipient:              common.HexToAddress(s.info.Recipient),
		FaceValue:              big.NewInt(1e15),
		WinProb:                chain.MaxWinProb,
		SenderNonce:            uint32(s.seq.Add(1)),
		CreationRound:          round.Int64(),
		CreationRoundBlockHash: bh,
		ParamsExpirationBlock:  due,
	}
	var r [8]byte
	rand.Read(r[:])
	m, _, err := rpc.SignTicket(tk, key, new(big.Int).SetBytes(r[:]))
	return m, err
}
