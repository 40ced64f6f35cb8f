package rpc

import (
	"context"
	"errors"
	"io"
	"math/big"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"redeemer/monitor/monitortest"
	"redeemer/rpc/pb"
)

// padTo appends an unknown field to body so that it is exactly size bytes.
func padTo(t testing.TB, body []byte, size int) []byte {
	t.Helper()
	const num = 15 // unknown in every request message
	tag := protowire.SizeTag(num)
	for n := 1; n <= 5; n++ {
		l := size - len(body) - tag - n
		if l >= 0 && protowire.SizeVarint(uint64(l)) == n {
			return protowire.AppendBytes(protowire.AppendTag(append([]byte{}, body...), num, protowire.BytesType), make([]byte, l))
		}
	}
	t.Fatalf("cannot pad %d bytes to %d", len(body), size)
	return nil
}

// TestOversizedRequests: a request over MaxMessageBytes gets
// ResourceExhausted on every RPC, however far over, and stores nothing; one
// of exactly MaxMessageBytes is served; the connection stays usable.
func TestOversizedRequests(t *testing.T) {
	t.Parallel()
	s := newRawServer(t, floatEnvOpts{})
	ctx := s.env.ctx
	sender := s.env.c.Senders()[0].Address
	req := wmsg{bytesField(fMaxFloatSender, sender.Bytes())}.encode()

	sizes := []int{MaxMessageBytes + 1, 1 << 20, 5 << 20}
	for _, method := range append([]string{pb.TicketRedeemer_QueueTicket_FullMethodName}, senderMethods...) {
		name := method[len("/net.TicketRedeemer/"):]
		body := func() ([]byte, *pb.Ticket) { return req, nil }
		if method == pb.TicketRedeemer_QueueTicket_FullMethodName {
			body = func() ([]byte, *pb.Ticket) {
				m, _ := s.ticket(t, big.NewInt(1e15), nil)
				b, err := proto.Marshal(m)
				if err != nil {
					t.Fatal(err)
				}
				return b, m
			}
		}
		t.Run(name+"/at the limit", func(t *testing.T) {
			b, m := body()
			before := s.countTickets(t)
			if err := s.call(ctx, method, padTo(t, b, MaxMessageBytes)); err != nil {
				t.Fatalf("a request of exactly %d bytes: %v", MaxMessageBytes, err)
			}
			if m != nil && s.countTickets(t) != before+1 {
				t.Fatal("a ticket of exactly the limit was not stored")
			}
		})
		for _, size := range sizes {
			t.Run(name+"/"+byteSize(size), func(t *testing.T) {
				b, _ := body()
				before := s.countTickets(t)
				wantCode(t, s.call(ctx, method, padTo(t, b, size)), codes.ResourceExhausted, "")
				// Garbage of the same size is refused before anyone reads it.
				wantCode(t, s.call(ctx, method, filled(size, 0xff)), codes.ResourceExhausted, "")
				if n := s.countTickets(t); n != before {
					t.Fatalf("tickets = %d after oversized requests, want %d", n, before)
				}
			})
		}
	}
	// The connection that sent them all still works.
	m, hash := s.ticket(t, big.NewInt(1e15), nil)
	if _, err := pb.NewTicketRedeemerClient(s.conn).QueueTicket(ctx, m); err != nil {
		t.Fatalf("a valid ticket after the oversized requests: %v", err)
	}
	if _, err := s.r.st.TicketByHash(ctx, hash); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the streams to close", func() bool { return s.r.floats.Streams() == 0 })
}

func byteSize(n int) string {
	switch {
	case n%(1<<20) == 0:
		return itoa(n>>20) + " MiB"
	default:
		return itoa(n) + " bytes"
	}
}

func itoa(n int) string { return big.NewInt(int64(n)).String() }

// streamFlood describes a flood of MonitorMaxFloat streams: conns
// connections each ask for perConn streams, half for each of two senders,
// against a server with the given caps (zero: the production defaults).
type streamFlood struct {
	conns, perConn int
	// inflight bounds the opens one connection has waiting for their first
	// value (0: all at once). Each open costs the server a database read
	// before its first value, so an unbounded burst of thousands queues on
	// the pool past the float timeout and turns into Unavailable.
	inflight int
	caps     FloatOptions
	// within bounds the time from a float change to the well-behaved
	// client's stream carrying it.
	within time.Duration
}

// runStreamFlood opens a well-behaved client's stream, then floods the
// server with streams past its per-connection and per-process caps, and
// keeps asking for more while the well-behaved client queues a ticket and
// waits for its stream's update. Exactly the capacity is granted, every
// other stream is refused with ResourceExhausted, and the well-behaved
// client is served throughout.
func runStreamFlood(t *testing.T, o streamFlood) {
	s := newRawServer(t, floatEnvOpts{floats: o.caps})
	e := s.env
	ctx := e.ctx
	maxStreams, perConnCap := s.r.floats.opts.MaxStreams, s.r.floats.opts.MaxStreamsPerConn
	if o.conns*min(o.perConn, perConnCap) < maxStreams {
		t.Fatalf("flood of %d×%d cannot reach the process cap %d", o.conns, o.perConn, maxStreams)
	}
	if o.perConn <= perConnCap {
		t.Fatalf("flood of %d per connection does not pass the connection cap %d", o.perConn, perConnCap)
	}
	s0, s1 := e.c.Senders()[0], e.c.Senders()[1]
	senders := []common.Address{s0.Address, s1.Address}

	good := pb.NewTicketRedeemerClient(s.dial(t))
	goodStream := e.stream(good, s0.Address)
	goodStream.expect("well-behaved stream, first value", e.wantFloat(s0.Address, new(big.Int)), o.within)

	// The flood. Each opened stream keeps reading, as a live client would,
	// and remembers the last value it saw.
	floodCtx, stopFlood := context.WithCancel(ctx)
	defer stopFlood()
	type floodStream struct {
		sender int
		last   atomic.Pointer[big.Int]
	}
	var (
		mu       sync.Mutex
		opened   = make([]int, o.conns)
		refusals = map[codes.Code]int{}
		live     []*floodStream
		attempts sync.WaitGroup
		readers  sync.WaitGroup
	)
	open := func(c pb.TicketRedeemerClient, conn, i int) (ok bool, code codes.Code) {
		fs := &floodStream{sender: i % 2}
		st, err := c.MonitorMaxFloat(floodCtx, &pb.MaxFloatReq{Sender: senders[fs.sender].Bytes()})
		var first *pb.MaxFloatUpdate
		if err == nil {
			first, err = st.Recv()
		}
		if err != nil {
			return false, status.Code(err)
		}
		fs.last.Store(new(big.Int).SetBytes(first.GetMaxFloat()))
		mu.Lock()
		opened[conn]++
		live = append(live, fs)
		mu.Unlock()
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				m, err := st.Recv()
				if err != nil {
					return
				}
				fs.last.Store(new(big.Int).SetBytes(m.GetMaxFloat()))
			}
		}()
		return true, codes.OK
	}
	clients := make([]pb.TicketRedeemerClient, o.conns)
	for c := range clients {
		clients[c] = pb.NewTicketRedeemerClient(s.dial(t))
	}
	start := time.Now()
	for c := range clients {
		slots := make(chan struct{}, max(o.inflight, o.perConn))
		if o.inflight > 0 {
			slots = make(chan struct{}, o.inflight)
		}
		for i := range o.perConn {
			attempts.Add(1)
			go func() {
				defer attempts.Done()
				slots <- struct{}{}
				defer func() { <-slots }()
				if ok, code := open(clients[c], c, i); !ok {
					mu.Lock()
					refusals[code]++
					mu.Unlock()
				}
			}()
		}
	}
	attempts.Wait()
	floodTime := time.Since(start)

	total := 0
	for c, n := range opened {
		if n > perConnCap {
			t.Errorf("connection %d opened %d streams, over the cap of %d", c, n, perConnCap)
		}
		total += n
	}
	if total != maxStreams-1 {
		t.Errorf("flood opened %d streams, want the %d left beside the well-behaved one", total, maxStreams-1)
	}
	if want := o.conns*o.perConn - total; refusals[codes.ResourceExhausted] != want || len(refusals) != 1 {
		t.Errorf("refusals %v, want %d ResourceExhausted and nothing else", refusals, want)
	}
	if n := s.r.floats.Streams(); n != maxStreams {
		t.Errorf("server counts %d streams, want %d", n, maxStreams)
	}
	t.Logf("%d connections asked for %d streams each (%d at a time) in %v: %d opened, %v refused",
		o.conns, o.perConn, o.inflight, floodTime.Round(time.Millisecond), total, refusals)
	if t.Failed() {
		t.FailNow()
	}

	// Meanwhile, the flooding connections keep asking.
	var (
		more     sync.WaitGroup
		moreMu   sync.Mutex
		moreSeen = map[codes.Code]int{}
	)
	for c := range clients {
		more.Add(1)
		go func() {
			defer more.Done()
			for i := 0; floodCtx.Err() == nil; i++ {
				ok, code := open(clients[c], c, i)
				if floodCtx.Err() != nil {
					return
				}
				if ok {
					code = codes.OK
				}
				moreMu.Lock()
				moreSeen[code]++
				moreMu.Unlock()
			}
		}()
	}

	// The well-behaved client queues a ticket on its connection and on a
	// new one, and its stream follows the float change the ticket's claim
	// makes.
	face := monitortest.Ether(5)
	var queued []common.Hash
	for _, c := range []pb.TicketRedeemerClient{good, pb.NewTicketRedeemerClient(s.dial(t))} {
		m, hash := s.ticket(t, face, nil)
		qctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		began := time.Now()
		_, err := c.QueueTicket(qctx, m)
		cancel()
		if err != nil {
			t.Fatalf("well-behaved QueueTicket during the flood: %v", err)
		}
		t.Logf("well-behaved QueueTicket during the flood took %v", time.Since(began).Round(time.Millisecond))
		queued = append(queued, hash)
	}
	tk, err := s.r.st.TicketByHash(ctx, queued[0])
	if err != nil {
		t.Fatal(err)
	}
	want := e.wantFloat(s0.Address, face)
	claimed := time.Now()
	monitortest.Claim(t, ctx, s.r.st, tk)
	goodStream.expect("well-behaved stream after a claim during the flood", want, o.within)
	t.Logf("well-behaved stream had its update %v after the claim committed", time.Since(claimed).Round(time.Millisecond))

	// Every flood stream on the same sender gets it too, in time.
	mu.Lock()
	flood := slices.Clone(live)
	mu.Unlock()
	fanOut := 30 * time.Second
	same := 1 // the well-behaved stream
	for _, fs := range flood {
		if fs.sender == 0 {
			same++
		}
	}
	waitUntil(t, fanOut, "every flood stream of the sender to have the update", func() bool {
		for _, fs := range flood {
			if fs.sender == 0 && fs.last.Load().Cmp(want) != 0 {
				return false
			}
		}
		return true
	})
	t.Logf("all %d streams of the sender had the update %v after the claim", same, time.Since(claimed).Round(time.Millisecond))

	stopFlood()
	more.Wait()
	if len(moreSeen) != 1 || moreSeen[codes.ResourceExhausted] == 0 {
		t.Errorf("streams asked for while the server was full: %v, want only ResourceExhausted", moreSeen)
	}
	t.Logf("%d more streams refused while the well-behaved client worked", moreSeen[codes.ResourceExhausted])
	readers.Wait()
	waitUntil(t, 30*time.Second, "the flood's streams to be freed", func() bool {
		return s.r.floats.Streams() == 1 && s.r.hub.Subscribers() == 1
	})
	// Room again: a new stream opens.
	e.stream(good, s1.Address).expect("a stream after the flood", e.wantFloat(s1.Address, new(big.Int)), o.within)
}

// waitUntil polls cond until it holds or within passes.
func waitUntil(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
	}
}

// TestFloodStreamsSparesOtherClients is the stream flood at small caps, so
// that it runs with every test.
func TestFloodStreamsSparesOtherClients(t *testing.T) {
	t.Parallel()
	runStreamFlood(t, streamFlood{
		conns: 6, perConn: 15, caps: FloatOptions{MaxStreams: 40, MaxStreamsPerConn: 10}, within: 2 * time.Second,
	})
}

// garbageFlood describes workers that send bad requests of every kind, over
// conns connections, for d.
type garbageFlood struct {
	workers, conns int
	d              time.Duration
	// slowest bounds one well-behaved call.
	slowest time.Duration
}

// runGarbageFlood floods the server with bad unary requests and
// MonitorMaxFloat opens while a well-behaved client queues tickets and asks
// for floats; every bad request gets the code its bytes call for, the
// well-behaved client is never refused, and only its tickets are stored.
func runGarbageFlood(t *testing.T, o garbageFlood) {
	s := newRawServer(t, floatEnvOpts{})
	e := s.env
	ctx := e.ctx
	recipient := e.c.Recipient().Address
	sender := e.c.Senders()[0].Address

	base, _ := s.ticket(t, big.NewInt(1e15), nil)
	ticketBytes, err := proto.Marshal(base)
	if err != nil {
		t.Fatal(err)
	}
	senderReq := wmsg{bytesField(fMaxFloatSender, sender.Bytes())}.encode()

	// expect returns the codes the server may answer for body on method.
	// For a ticket the local decoder is the oracle; a ticket the fuzzing
	// left valid (a changed seed or expiration block is not signed) may be
	// stored, and is remembered.
	type verdict struct {
		codes []codes.Code
		hash  common.Hash // of a ticket that may be accepted
	}
	expect := func(method string, body []byte) (verdict, bool) {
		if len(body) > MaxMessageBytes {
			return verdict{codes: []codes.Code{codes.ResourceExhausted}}, true
		}
		if method == pb.TicketRedeemer_QueueTicket_FullMethodName {
			var m pb.Ticket
			if proto.Unmarshal(body, &m) != nil {
				return verdict{codes: []codes.Code{codes.InvalidArgument}}, true
			}
			// Once the flooding address has spent its refusal budget,
			// every ticket it sends is refused at once (peer_refusals).
			d, err := DecodeTicket(&m, recipient)
			switch {
			case errors.Is(err, ErrForeignRecipient):
				return verdict{codes: []codes.Code{codes.PermissionDenied, codes.ResourceExhausted}}, true
			case err != nil:
				return verdict{codes: []codes.Code{codes.InvalidArgument, codes.ResourceExhausted}}, true
			}
			return verdict{codes: []codes.Code{codes.OK, codes.InvalidArgument, codes.ResourceExhausted}, hash: d.Hash}, true
		}
		var m pb.MaxFloatReq
		if proto.Unmarshal(body, &m) == nil && len(m.GetSender()) == 20 && common.BytesToAddress(m.GetSender()) != (common.Address{}) {
			return verdict{}, false // a valid request: not garbage
		}
		return verdict{codes: []codes.Code{codes.InvalidArgument}}, true
	}
	garbage := func(rng *rand.Rand, method string) []byte {
		src := senderReq
		if method == pb.TicketRedeemer_QueueTicket_FullMethodName {
			src = ticketBytes
		}
		switch rng.IntN(6) {
		case 0: // random bytes
			b := make([]byte, rng.IntN(200))
			for i := range b {
				b[i] = byte(rng.UintN(256))
			}
			return b
		case 1: // cut short
			return slices.Clone(src[:rng.IntN(len(src))])
		case 2: // a few bytes changed
			b := slices.Clone(src)
			for range 1 + rng.IntN(3) {
				b[rng.IntN(len(b))] = byte(rng.UintN(256))
			}
			return b
		case 3: // an address or length one byte off
			if method == pb.TicketRedeemer_QueueTicket_FullMethodName {
				m := proto.Clone(base).(*pb.Ticket)
				m.Sender = append(m.Sender, 0)
				b, _ := proto.Marshal(m)
				return b
			}
			return wmsg{bytesField(fMaxFloatSender, sender[rng.IntN(2):])}.encode()
		case 4: // oversized
			return filled(MaxMessageBytes+1+rng.IntN(64<<10), byte(rng.UintN(256)))
		default: // valid shape, bad tail
			return append(slices.Clone(src), 0x80)
		}
	}

	conns := make([]*grpc.ClientConn, o.conns)
	for i := range conns {
		conns[i] = s.dial(t)
	}
	methods := []string{
		pb.TicketRedeemer_QueueTicket_FullMethodName, pb.TicketRedeemer_QueueTicket_FullMethodName,
		pb.TicketRedeemer_MaxFloat_FullMethodName, pb.TicketRedeemer_SenderInfo_FullMethodName,
		pb.TicketRedeemer_MonitorMaxFloat_FullMethodName,
	}
	floodCtx, stopFlood := context.WithTimeout(ctx, o.d)
	defer stopFlood()
	var (
		sent     atomic.Int64
		mu       sync.Mutex
		accepted = map[common.Hash]bool{}
		wrong    []string
		workers  sync.WaitGroup
	)
	for w := range o.workers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			conn := conns[w%len(conns)]
			for floodCtx.Err() == nil {
				method := methods[rng.IntN(len(methods))]
				body := garbage(rng, method)
				v, isGarbage := expect(method, body)
				if !isGarbage {
					continue
				}
				cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				var err error
				if method == pb.TicketRedeemer_MonitorMaxFloat_FullMethodName {
					_, _, err = openStream(cctx, conn, body)
				} else {
					_, err = unary(cctx, conn, method, body)
				}
				cancel()
				sent.Add(1)
				code := status.Code(err)
				if !slices.Contains(v.codes, code) {
					mu.Lock()
					wrong = append(wrong, method+": "+code.String()+" ("+errString(err)+"), want one of "+codesString(v.codes))
					mu.Unlock()
					continue
				}
				if code == codes.OK {
					mu.Lock()
					accepted[v.hash] = true
					mu.Unlock()
				}
			}
		}()
	}

	// The well-behaved client, on its own connection from its own address:
	// the flood spends its own address's refusal budget, not this one's.
	good := pb.NewTicketRedeemerClient(s.dialFrom(t, "127.0.0.2"))
	var latencies []time.Duration
	began := time.Now()
	for floodCtx.Err() == nil {
		m, hash := s.ticket(t, big.NewInt(1e15), nil)
		cctx, cancel := context.WithTimeout(ctx, o.slowest)
		start := time.Now()
		_, err := good.QueueTicket(cctx, m)
		if err == nil {
			latencies = append(latencies, time.Since(start))
			start = time.Now()
			_, err = good.MaxFloat(cctx, &pb.MaxFloatReq{Sender: sender.Bytes()})
			latencies = append(latencies, time.Since(start))
		}
		cancel()
		if err != nil {
			t.Fatalf("well-behaved call %d during the garbage flood: %v", len(latencies), err)
		}
		mu.Lock()
		accepted[hash] = true
		mu.Unlock()
	}
	workers.Wait()
	elapsed := time.Since(began)

	for _, w := range wrong[:min(len(wrong), 20)] {
		t.Error(w)
	}
	if len(wrong) > 0 {
		t.Fatalf("%d of %d bad requests got an unexpected code", len(wrong), sent.Load())
	}
	if len(latencies) < 2 {
		t.Fatal("the well-behaved client made no call during the flood")
	}
	slices.Sort(latencies)
	t.Logf("%d bad requests in %v (%.0f/s) from %d workers on %d connections; %d well-behaved calls: p50 %v, p99 %v, max %v",
		sent.Load(), elapsed.Round(time.Millisecond), float64(sent.Load())/elapsed.Seconds(), o.workers, o.conns, len(latencies),
		latencies[len(latencies)/2].Round(time.Microsecond), latencies[len(latencies)*99/100].Round(time.Microsecond),
		latencies[len(latencies)-1].Round(time.Microsecond))

	if n := s.countTickets(t); n != int64(len(accepted)) {
		t.Fatalf("tickets = %d, want the %d accepted", n, len(accepted))
	}
	for h := range accepted {
		if _, err := s.r.st.TicketByHash(ctx, h); err != nil {
			t.Fatalf("accepted ticket %s: %v", h, err)
		}
	}
	waitUntil(t, 30*time.Second, "the garbage streams to close", func() bool { return s.r.floats.Streams() == 0 })
}

func errString(err error) string {
	if err == nil {
		return "no error"
	}
	if errors.Is(err, io.EOF) {
		return "EOF"
	}
	return err.Error()
}

func codesString(cs []codes.Code) string {
	out := ""
	for i, c := range cs {
		if i > 0 {
			out += ", "
		}
		out += c.String()
	}
	return out
}

// TestFloodGarbageSparesOtherClients is the garbage flood, short, so that
// it runs with every test.
func TestFloodGarbageSparesOtherClients(t *testing.T) {
	t.Parallel()
	runGarbageFlood(t, garbageFlood{workers: 8, conns: 4, d: 3 * time.Second, slowest: 10 * time.Second})
}
