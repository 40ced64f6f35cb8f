//go:build chaos

package main

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"

	"redeemer/chain"
	"redeemer/chain/contracts"
	"redeemer/rpc"
	"redeemer/rpc/pb"
	"redeemer/store/storetest"
)

// chaosLong reports whether the long fault run was asked for.
func chaosLong() bool { return os.Getenv("REDEEMER_CHAOS_LONG") == "1" }

// gethBinary is bin/geth at the top of the repository, built by
// chain/devchain/build-geth.sh from the go-ethereum version in go.mod.
func gethBinary(t *testing.T) string {
	t.Helper()
	path, err := filepath.Abs(filepath.Join("..", "..", "bin", "geth"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no geth at %s (%v): build it with chain/devchain/build-geth.sh, which builds the go-ethereum version go.mod requires", path, err)
	}
	return path
}

func freePortOn(t *testing.T) string {
	t.Helper()
	_, port, err := net.SplitHostPort(freeAddr(t))
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// startGeth runs `geth --dev` on its own temporary data directory, a block
// every second, with HTTP JSON-RPC on a free loopback port, and returns that
// URL once the node answers.
func startGeth(t *testing.T) string {
	t.Helper()
	httpPort := freePortOn(t)
	p := startProc(t, "geth", gethBinary(t),
		"--dev", "--dev.period", "1",
		"--datadir", filepath.Join(t.TempDir(), "geth"),
		"--http", "--http.addr", "127.0.0.1", "--http.port", httpPort, "--http.api", "eth,net,web3",
		"--authrpc.addr", "127.0.0.1", "--authrpc.port", freePortOn(t),
		"--port", "0", "--nodiscover", "--maxpeers", "0", "--ipcdisable",
		"--verbosity", "2")
	url := "http://127.0.0.1:" + httpPort
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		eth, err := ethclient.DialContext(ctx, url)
		if err == nil {
			_, err = eth.BlockNumber(ctx)
			eth.Close()
		}
		cancel()
		if err == nil {
			return url
		}
		select {
		case <-p.exited:
			t.Fatalf("geth exited before serving JSON-RPC: %v\n%s", p.err, p.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("geth did not answer on %s within 60s: %v", url, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// gethNode is geth --dev with the dev contracts deployed by `redeemer
// devchain deploy`, whose round keeper keeps running beside it.
type gethNode struct {
	info *devInfo
	eth  *ethclient.Client
}

func startGethWithContracts(t *testing.T, bin string, roundLength, senders int) *gethNode {
	t.Helper()
	url := startGeth(t)
	dir := t.TempDir()
	infoPath := filepath.Join(dir, "chain.json")
	start := time.Now()
	deployer := startProc(t, "devchain-deploy", bin, "devchain", "deploy", "--eth-url", url,
		"--round-length", strconv.Itoa(roundLength), "--senders", strconv.Itoa(senders),
		"--data-dir", filepath.Join(dir, "data"), "--info-file", infoPath, "--keep-rounds")
	info := waitInfo(t, deployer, infoPath)
	t.Logf("geth --dev at %s; dev contracts deployed in %s (Controller %s)", url, time.Since(start).Round(time.Millisecond), info.Controller)
	eth, err := ethclient.Dial(info.EthRPCURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eth.Close)
	return &gethNode{info: info, eth: eth}
}

// newClusterOn is a cluster whose chain is the node info describes.
func newClusterOn(t *testing.T, bin string, n *gethNode) *cluster {
	t.Helper()
	return &cluster{t: t, bin: bin, dsn: storetest.New(t), info: n.info, eth: n.eth}
}

// chaosServeArgs are serve settings for the node's 1s blocks: a refused
// attempt is retried a second later rather than the production 30s, so a
// round boundary or a kill costs the run seconds, not minutes.
var chaosServeArgs = []string{"--retry-backoff", "1s", "--eth-timeout", "3s"}

// chaosSigner signs winning tickets from any dev sender, each one unique.
type chaosSigner struct {
	info     *devInfo
	protocol *chain.Protocol
	keys     []*ecdsa.PrivateKey
	seq      atomic.Uint64
}

func newChaosSigner(t *testing.T, o *orchestrator) *chaosSigner {
	t.Helper()
	s := &chaosSigner{info: o.info, protocol: o.protocol}
	for i := range o.info.Senders {
		s.keys = append(s.keys, o.senderKey(i))
	}
	return s
}

// sign returns a ticket from sender i worth face, due at block due, for the
// last initialized round.
func (s *chaosSigner) sign(ctx context.Context, i int, face *big.Int, due uint64) (*pb.Ticket, common.Hash, error) {
	round, err := s.protocol.LastInitializedRound(ctx)
	if err != nil {
		return nil, common.Hash{}, err
	}
	bh, err := s.protocol.BlockHashForRound(ctx, round)
	if err != nil {
		return nil, common.Hash{}, err
	}
	n := s.seq.Add(1)
	tk := chain.Ticket{
		Recipient:              common.HexToAddress(s.info.Recipient),
		FaceValue:              face,
		WinProb:                chain.MaxWinProb,
		SenderNonce:            uint32(n),
		CreationRound:          round.Int64(),
		CreationRoundBlockHash: bh,
		ParamsExpirationBlock:  new(big.Int).SetUint64(due),
	}
	// The recipient's random number makes each ticket's hash unique even
	// across runs against one node.
	rand := new(big.Int).Lsh(big.NewInt(time.Now().UnixNano()), 64)
	rand.Add(rand, new(big.Int).SetUint64(n))
	m, h, err := rpc.SignTicket(tk, s.keys[i], rand)
	return m, h, err
}

// checkFloats compares every sender's MaxFloat from the service with the
// formula over the chain's own answers (TicketBroker.claimableReserve and
// the deposit) and the in-limbo amount in the database. The service follows
// the chain a block behind at most, so a difference must persist for
// within to count.
func (c *cluster) checkFloats(o *orchestrator, within time.Duration) {
	c.t.Helper()
	ctx := context.Background()
	recipient := common.HexToAddress(c.info.Recipient)
	for _, s := range c.info.Senders {
		sender := common.HexToAddress(s.Address)
		var got, want *big.Int
		var why string
		deadline := time.Now().Add(within)
		for {
			got, want, why = nil, nil, ""
			upd, err := o.client.MaxFloat(ctx, &pb.MaxFloatReq{Sender: sender.Bytes()})
			if err != nil {
				why = fmt.Sprintf("MaxFloat: %v", err)
			} else {
				got = new(big.Int).SetBytes(upd.MaxFloat)
				want, err = c.formulaFloat(ctx, o, sender, recipient)
				if err != nil {
					why = err.Error()
				} else if got.Cmp(want) == 0 {
					break
				}
			}
			if time.Now().After(deadline) {
				c.t.Fatalf("sender %s: service float %v, formula from chain reads %v %s", sender, got, want, why)
			}
			time.Sleep(250 * time.Millisecond)
		}
		c.t.Logf("sender %s: max float %s wei, as the formula says", sender, got)
	}
}

// formulaFloat is PROTOCOL.md's max float from chain reads: the reserve
// allocation, less the in-limbo amount unless the deposit covers it three
// times; negative values go on the wire as 0.
func (c *cluster) formulaFloat(ctx context.Context, o *orchestrator, sender, recipient common.Address) (*big.Int, error) {
	alloc, err := o.protocol.ClaimableReserve(ctx, sender, recipient)
	if err != nil {
		return nil, err
	}
	info, err := o.protocol.SenderInfo(ctx, sender)
	if err != nil {
		return nil, err
	}
	var limboText string
	if err := o.db.QueryRow(ctx, `SELECT coalesce(sum(amount), 0)::text FROM sender_limbo WHERE sender = $1`, sender.Bytes()).Scan(&limboText); err != nil {
		return nil, fmt.Errorf("sender_limbo: %w", err)
	}
	limbo, ok := new(big.Int).SetString(limboText, 10)
	if !ok {
		return nil, fmt.Errorf("sender_limbo amount %q", limboText)
	}
	v := new(big.Int).Set(alloc)
	if limbo.Sign() > 0 && new(big.Int).Quo(info.Deposit, limbo).Cmp(big.NewInt(3)) < 0 {
		v.Sub(v, limbo)
	}
	if v.Sign() < 0 {
		v.SetInt64(0)
	}
	return v, nil
}

// checkRounds proves the round keeper of `redeemer devchain deploy` did its
// part on the node: every round up to the current one has its NewRound
// event. It logs how many blocks after its first block each was
// initialized (0 is on time): the keeper sends in the block before, and a
// late one only delays redemptions, so lateness is reported, not failed.
func (c *cluster) checkRounds(ctx context.Context, roundLength uint64) {
	c.t.Helper()
	rm, err := contracts.NewRoundsManager(common.HexToAddress(c.info.RoundsManager), c.eth)
	if err != nil {
		c.t.Fatal(err)
	}
	current, err := rm.CurrentRound(&bind.CallOpts{Context: ctx})
	if err != nil {
		c.t.Fatal(err)
	}
	it, err := rm.FilterNewRound(&bind.FilterOpts{Context: ctx}, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	defer it.Close()
	late := map[uint64]uint64{}
	for it.Next() {
		r := it.Event.Round.Uint64()
		late[r] = it.Event.Raw.BlockNumber - r*roundLength
	}
	if err := it.Error(); err != nil {
		c.t.Fatal(err)
	}
	if len(late) == 0 {
		c.t.Fatal("no NewRound event at all: not even the deployment round was initialized")
	}
	first := current.Uint64()
	for r := range late {
		first = min(first, r)
	}
	var report []string
	for r := first; r <= current.Uint64(); r++ {
		lag, ok := late[r]
		if !ok {
			c.t.Errorf("round %d (current %s) was never initialized", r, current)
			continue
		}
		report = append(report, fmt.Sprintf("%d:+%d", r, lag))
	}
	c.t.Logf("rounds initialized, blocks after their first (deployment round first): %s", strings.Join(report, " "))
}

func wholeEther(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(1e18)) }

// TestChaosGethEndToEnd runs `redeemer serve` against geth --dev over HTTP
// JSON-RPC, with the dev contracts deployed by `redeemer devchain deploy`:
// tickets from two senders, one of them large enough to draw on its
// reserve, are all redeemed exactly once, with no nonce gap and nothing left
// in limbo, and each sender's float equals the formula from chain reads.
func TestChaosGethEndToEnd(t *testing.T) {
	bin := buildBinary(t)
	node := startGethWithContracts(t, bin, 30, 2)
	c := newClusterOn(t, bin, node)
	p, addr := c.serve("serve", chaosServeArgs...)
	p.waitLog(t, "became leader", 60*time.Second)
	o := c.orchestratorAt(addr)
	signer := newChaosSigner(t, o)
	ctx := context.Background()

	head, err := c.eth.BlockNumber(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var accepted []common.Hash
	queue := func(sender int, face *big.Int, due uint64) {
		t.Helper()
		m, h, err := signer.sign(ctx, sender, face, due)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.client.QueueTicket(ctx, m); err != nil {
			t.Fatalf("QueueTicket: %v", err)
		}
		accepted = append(accepted, h)
	}
	// Sender 0: small tickets, paid from its deposit, due over several
	// blocks. Sender 1: four of 3 ETH against a 10 ETH deposit, so 2 ETH
	// come from its reserve and its float falls by as much.
	for i := range 20 {
		queue(0, big.NewInt(2e15), head+3+uint64(i%5))
	}
	for i := range 4 {
		queue(1, wholeEther(3), head+3+uint64(i))
	}
	c.waitAllFinal(o, 3*time.Minute)
	c.checkInvariants(o, accepted)
	c.checkFloats(o, 30*time.Second)
	c.checkRounds(ctx, 30)

	reserve1, err := o.protocol.ClaimableReserve(ctx, common.HexToAddress(c.info.Senders[1].Address), common.HexToAddress(c.info.Recipient))
	if err != nil {
		t.Fatal(err)
	}
	if reserve1.Cmp(wholeEther(8)) != 0 {
		t.Fatalf("sender 1's claimable reserve %s, want 8 ETH after 12 ETH of tickets on a 10 ETH deposit", reserve1)
	}
	if !strings.Contains(p.logs.String(), "transaction broadcast") {
		t.Fatal("serve logged no broadcast")
	}
}
