package contracts_test

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind"

	"redeemer/chain/contracts"
)

// The values below are copied from shared/PROTOCOL.md. They are checked
// against selectors and topics computed from the generated ABIs, so a
// signature that drifts from the real protocol fails here.

var wantSelectors = []struct {
	contract string
	sig      string
	selector string
}{
	{"TicketBroker", "redeemWinningTicket((address,address,uint256,uint256,uint256,bytes32,bytes),bytes,uint256)", "ec8b3cb6"},
	{"TicketBroker", "batchRedeemWinningTickets((address,address,uint256,uint256,uint256,bytes32,bytes)[],bytes[],uint256[])", "d01b808e"},
	{"TicketBroker", "getSenderInfo(address)", "e1a589da"},
	{"TicketBroker", "claimedReserve(address,address)", "4ac826da"},
	{"TicketBroker", "claimableReserve(address,address)", "81779f38"},
	{"TicketBroker", "usedTickets(bytes32)", "59a515ba"},
	{"RoundsManager", "currentRound()", "8a19c8bc"},
	{"RoundsManager", "lastInitializedRound()", "8807f36e"},
	{"RoundsManager", "currentRoundInitialized()", "219bc76c"},
	{"RoundsManager", "blockHashForRound(uint256)", "3aa4add4"},
	{"BondingManager", "getTranscoderPoolSize()", "2a4e0d55"},
	{"BondingManager", "isActiveTranscoder(address)", "08802374"},
	{"Controller", "getContract(bytes32)", "e16c7d98"},
	// Multicall3's, as deployed at its canonical address.
	{"Multicall3", "aggregate3((address,bool,bytes)[])", "82ad56cb"},
}

// Methods PROTOCOL.md names without a selector: they must exist with these
// exact signatures.
var wantMethods = []struct{ contract, sig string }{
	{"TicketBroker", "getTicketHash((address,address,uint256,uint256,uint256,bytes32,bytes))"},
	{"TicketBroker", "ticketValidityPeriod()"},
	{"TicketBroker", "unlockPeriod()"},
	{"TicketBroker", "isUnlockInProgress(address)"},
	{"TicketBroker", "fundDeposit()"},
	{"TicketBroker", "fundReserve()"},
	{"TicketBroker", "fundDepositAndReserve(uint256,uint256)"},
	{"TicketBroker", "unlock()"},
	{"TicketBroker", "cancelUnlock()"},
	{"TicketBroker", "withdraw()"},
	{"RoundsManager", "roundLength()"},
	{"RoundsManager", "blockNum()"},
	{"RoundsManager", "initializeRound()"},
	// Not in PROTOCOL.md; signatures as on the deployed contracts.
	{"TicketBroker", "fundDepositAndReserveFor(address,uint256,uint256)"},
	{"TicketBroker", "getReserveInfo(address)"},
	{"RoundsManager", "currentRoundStartBlock()"},
	{"BondingManager", "pendingFees(address,uint256)"},
	{"BondingManager", "updateTranscoderWithFees(address,uint256,uint256)"},
	{"BondingManager", "isRegisteredTranscoder(address)"},
	{"Controller", "paused()"},
}

var payable = map[string]bool{
	"fundDeposit()":                                     true,
	"fundReserve()":                                     true,
	"fundDepositAndReserve(uint256,uint256)":            true,
	"fundDepositAndReserveFor(address,uint256,uint256)": true,
}

// Events as PROTOCOL.md writes them: a '*' after the type marks an indexed
// argument.
var wantEvents = []struct {
	contract string
	sig      string
	topic0   string
}{
	{"TicketBroker", "DepositFunded(address*,uint256)", "5159e237d952190e68d5215430f305831be7c9c8776d1377c76679ae4773413f"},
	{"TicketBroker", "ReserveFunded(address*,uint256)", "b52b99b9e83551fcbd069b559cc3e823e2a1a3bad8ece46561ea77524394c850"},
	{"TicketBroker", "ReserveClaimed(address*,address,uint256)", "5c2b394723f408a40a60335e24b71829642e35f350cebe2036a96a66e895ea98"},
	{"TicketBroker", "Unlock(address*,uint256,uint256)", "f7870c5b224cbc19873599e46ccfc7103934650509b1af0c3ce90138377c2004"},
	{"TicketBroker", "UnlockCancelled(address*)", "fa044b7b93a40365dc68049797c2eb06918523d694e5d56e406cac3eb35578e5"},
	{"TicketBroker", "WinningTicketRedeemed(address*,address*,uint256,uint256,uint256,uint256,bytes)", "c389eb51ed006dbf2528507f010efdf5225ea596e1e1741d74f550dab1925ee7"},
	{"TicketBroker", "WinningTicketTransfer(address*,address*,uint256)", "8b87351a208c06e3ceee59d80725fd77a23b4129e1b51ca231fc89b40712649c"},
	{"TicketBroker", "Withdrawal(address*,uint256,uint256)", "df273cb619d95419a9cd0ec88123a0538c85064229baa6363788f743fff90deb"},
	{"RoundsManager", "NewRound(uint256*,bytes32)", "22f2fc17c5daf07db2379b3a03a8ef20a183f761097a58fce219c8a14619e786"},
}

var metadata = map[string]*bind.MetaData{
	"TicketBroker":   contracts.TicketBrokerMetaData,
	"RoundsManager":  contracts.RoundsManagerMetaData,
	"BondingManager": contracts.BondingManagerMetaData,
	"Controller":     contracts.ControllerMetaData,
	"Multicall3":     contracts.Multicall3MetaData,
}

func parsedABI(t *testing.T, contract string) *abi.ABI {
	t.Helper()
	md, ok := metadata[contract]
	if !ok {
		t.Fatalf("no binding for %s", contract)
	}
	a, err := md.GetAbi()
	if err != nil {
		t.Fatalf("%s ABI: %v", contract, err)
	}
	return a
}

func methodBySig(a *abi.ABI, sig string) (abi.Method, bool) {
	for _, m := range a.Methods {
		if m.Sig == sig {
			return m, true
		}
	}
	return abi.Method{}, false
}

func TestSelectorsMatchProtocol(t *testing.T) {
	for _, w := range wantSelectors {
		a := parsedABI(t, w.contract)
		m, ok := methodBySig(a, w.sig)
		if !ok {
			t.Errorf("%s has no method %s", w.contract, w.sig)
			continue
		}
		if got := hex.EncodeToString(m.ID); got != w.selector {
			t.Errorf("%s.%s selector %s, want %s", w.contract, w.sig, got, w.selector)
		}
	}
	for _, w := range wantMethods {
		m, ok := methodBySig(parsedABI(t, w.contract), w.sig)
		if !ok {
			t.Errorf("%s has no method %s", w.contract, w.sig)
			continue
		}
		if m.IsPayable() != payable[w.sig] {
			t.Errorf("%s.%s payable = %v", w.contract, w.sig, m.IsPayable())
		}
	}
	if m, ok := methodBySig(parsedABI(t, "Multicall3"), "aggregate3((address,bool,bytes)[])"); !ok || !m.IsPayable() {
		t.Errorf("Multicall3.aggregate3 missing or not payable")
	}
}

func TestSenderInfoShape(t *testing.T) {
	m, ok := methodBySig(parsedABI(t, "TicketBroker"), "getSenderInfo(address)")
	if !ok {
		t.Fatal("no getSenderInfo")
	}
	// go-livepeer decodes the two tuples positionally.
	var got []string
	for _, o := range m.Outputs {
		got = append(got, o.Type.String())
	}
	if want := "(uint256,uint256) (uint256,uint256)"; strings.Join(got, " ") != want {
		t.Fatalf("getSenderInfo outputs %v, want %s", got, want)
	}
}

func TestEventTopicsMatchProtocol(t *testing.T) {
	for _, w := range wantEvents {
		a := parsedABI(t, w.contract)
		name, rest, _ := strings.Cut(w.sig, "(")
		ev, ok := a.Events[name]
		if !ok {
			t.Errorf("%s has no event %s", w.contract, name)
			continue
		}
		if got := hex.EncodeToString(ev.ID[:]); got != w.topic0 {
			t.Errorf("%s topic0 %s (signature %s), want %s", name, got, ev.Sig, w.topic0)
		}
		args := strings.Split(strings.TrimSuffix(rest, ")"), ",")
		if len(args) != len(ev.Inputs) {
			t.Errorf("%s has %d args, want %d", name, len(ev.Inputs), len(args))
			continue
		}
		for i, arg := range args {
			wantIndexed := strings.HasSuffix(arg, "*")
			if ev.Inputs[i].Indexed != wantIndexed {
				t.Errorf("%s arg %d (%s) indexed = %v, want %v", name, i, ev.Inputs[i].Name, ev.Inputs[i].Indexed, wantIndexed)
			}
		}
	}
}

// TestBuildMatchesBindings guards against committing a rebuilt build/ without
// regenerating the bindings (or the reverse).
func TestBuildMatchesBindings(t *testing.T) {
	for name, md := range metadata {
		bin, err := os.ReadFile(filepath.Join("build", name+".bin"))
		if err != nil {
			t.Fatal(err)
		}
		if want := "0x" + strings.TrimSpace(string(bin)); md.Bin != want {
			t.Errorf("%s: binding bytecode differs from build/%s.bin; run chain/contracts/compile.sh", name, name)
		}
		raw, err := os.ReadFile(filepath.Join("build", name+".abi"))
		if err != nil {
			t.Fatal(err)
		}
		fromFile, err := abi.JSON(strings.NewReader(string(raw)))
		if err != nil {
			t.Fatal(err)
		}
		fromBinding, err := md.GetAbi()
		if err != nil {
			t.Fatal(err)
		}
		if len(fromFile.Methods) != len(fromBinding.Methods) || len(fromFile.Events) != len(fromBinding.Events) {
			t.Errorf("%s: binding ABI differs from build/%s.abi; run chain/contracts/compile.sh", name, name)
			continue
		}
		for n, m := range fromFile.Methods {
			if bm, ok := fromBinding.Methods[n]; !ok || bm.Sig != m.Sig {
				t.Errorf("%s: method %s differs between build and binding", name, m.Sig)
			}
		}
	}
}

// TestMulticallRuntimeMatchesBuild: the runtime code the embedded chain
// places at genesis is what the creation code deploys (for a contract
// without immutables the creation code carries it verbatim).
func TestMulticallRuntimeMatchesBuild(t *testing.T) {
	runtime := contracts.Multicall3RuntimeCode()
	if len(runtime) == 0 {
		t.Fatal("no Multicall3 runtime code")
	}
	if !strings.Contains(contracts.Multicall3MetaData.Bin, hex.EncodeToString(runtime)) {
		t.Fatal("build/Multicall3.bin-runtime is not the code build/Multicall3.bin deploys; run chain/contracts/compile.sh")
	}
}
