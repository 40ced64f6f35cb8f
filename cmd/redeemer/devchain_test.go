package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/google/uuid"

	"redeemer/chain"
	"redeemer/chain/devchain"
)

// TestDevchainDeployOnNode deploys the dev contracts with `redeemer
// devchain deploy` over JSON-RPC onto a node that mines on its own (the
// embedded chain, mined by a clock here), funded from a keystore, and
// checks the info file against the chain: the Controller resolves the
// other contracts, the recipient is active, every sender has its deposit
// and reserve, an account the node did not fund was paid, the redeemer
// keystore decrypts to the redeemer account, and --keep-rounds initializes
// the rounds as blocks pass.
func TestDevchainDeployOnNode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	node, err := devchain.New(ctx, devchain.Options{RPCAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Close() })
	// Blocks on a clock, as a real node makes them; the embedded chain's own
	// round keeping (Mine) would share the keeper account with the one under
	// test, so plain commits it is.
	mineCtx, stopMining := context.WithCancel(ctx)
	var mining sync.WaitGroup
	mining.Add(1)
	go func() {
		defer mining.Done()
		tk := time.NewTicker(100 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-mineCtx.Done():
				return
			case <-tk.C:
				node.Commit()
			}
		}
	}()
	t.Cleanup(func() { stopMining(); mining.Wait() })

	// The funder: the embedded chain's owner account, rich at genesis.
	dir := t.TempDir()
	funderKS, funderPW := filepath.Join(dir, "funder.json"), filepath.Join(dir, "funder-pw")
	owner := node.Owner()
	blob, err := keystore.EncryptKey(&keystore.Key{Id: uuid.New(), Address: owner.Address, PrivateKey: owner.Key},
		"funder", keystore.LightScryptN, keystore.LightScryptP)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(funderKS, blob, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(funderPW, []byte("funder\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	// The genesis funds two senders; a third must be paid by the funder.
	const senders = 3
	infoPath := filepath.Join(dir, "info.json")
	t.Setenv(envName("eth-url"), node.RPCURL()) // the environment fallback, as in production
	runCtx, stopRun := context.WithCancel(ctx)
	var out, errOut lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(runCtx, []string{"devchain", "deploy",
			"--funder-keystore", funderKS, "--funder-password-file", funderPW,
			"--round-length", "5", "--senders", "3", "--fund-eth", "7",
			"--data-dir", filepath.Join(dir, "data"), "--info-file", infoPath,
			"--keep-rounds", "--keeper-interval", "20ms"}, &out, &errOut)
	}()
	t.Cleanup(func() {
		stopRun()
		if err := <-done; err != nil {
			t.Errorf("devchain deploy --keep-rounds ended with %v", err)
		}
		if t.Failed() {
			t.Logf("devchain deploy output:\n%s\n%s", out.String(), errOut.String())
		}
	})

	var info devInfo
	waitFor(t, 90*time.Second, "info file", func() bool {
		select {
		case err := <-done:
			t.Fatalf("devchain deploy ended before writing its info file: %v\n%s", err, errOut.String())
		default:
		}
		b, err := os.ReadFile(infoPath)
		return err == nil && json.Unmarshal(b, &info) == nil
	})
	var printed devInfo
	if err := json.NewDecoder(bytes.NewReader([]byte(out.String()))).Decode(&printed); err != nil {
		t.Fatalf("stdout is not the info JSON: %v\n%s", err, out.String())
	}
	if printed.Controller != info.Controller {
		t.Fatalf("printed Controller %s, file says %s", printed.Controller, info.Controller)
	}

	eth, err := ethclient.DialContext(ctx, info.EthRPCURL)
	if err != nil {
		t.Fatal(err)
	}
	defer eth.Close()
	if id, err := eth.ChainID(ctx); err != nil || id.Uint64() != info.ChainID {
		t.Fatalf("chain id %v (%v), info file says %d", id, err, info.ChainID)
	}
	if common.HexToAddress(info.Controller) == node.Addresses().Controller {
		t.Fatal("the info file names the embedded chain's own Controller, not a new deployment")
	}
	p, err := chain.NewProtocol(ctx, eth, common.HexToAddress(info.Controller))
	if err != nil {
		t.Fatal(err)
	}
	a := p.Addresses()
	if a.TicketBroker.Hex() != info.TicketBroker || a.RoundsManager.Hex() != info.RoundsManager || a.BondingManager.Hex() != info.BondingManager {
		t.Fatalf("Controller resolves %+v; info file says broker %s rounds %s bonding %s", a, info.TicketBroker, info.RoundsManager, info.BondingManager)
	}
	if code, err := eth.CodeAt(ctx, common.HexToAddress(info.Multicall), nil); err != nil || len(code) == 0 || info.Multicall == node.Multicall().Hex() {
		t.Fatalf("info file multicall %s: %d bytes of code (%v); want a Multicall3 deployed by devchain deploy", info.Multicall, len(code), err)
	}
	acc := devchain.NewAccounts(senders)
	if info.Recipient != acc.Recipient.Address.Hex() || info.RedeemerAccount != acc.Redeemer.Address.Hex() {
		t.Fatalf("info file recipient %s redeemer %s, want the dev accounts %s %s",
			info.Recipient, info.RedeemerAccount, acc.Recipient.Address.Hex(), acc.Redeemer.Address.Hex())
	}
	if active, err := p.IsActiveTranscoder(ctx, acc.Recipient.Address); err != nil || !active {
		t.Fatalf("recipient active: %v, %v", active, err)
	}
	if n, err := p.RoundLength(ctx); err != nil || n.Uint64() != 5 {
		t.Fatalf("round length %v, %v; want 5", n, err)
	}
	if len(info.Senders) != senders {
		t.Fatalf("%d senders in the info file, want %d", len(info.Senders), senders)
	}
	for i, s := range info.Senders {
		key, err := crypto.HexToECDSA(strings.TrimPrefix(s.PrivateKey, "0x"))
		if err != nil || crypto.PubkeyToAddress(key.PublicKey).Hex() != s.Address || s.Address != acc.Senders[i].Address.Hex() {
			t.Fatalf("sender %d: key does not match %s (%v)", i, s.Address, err)
		}
		si, err := p.SenderInfo(ctx, common.HexToAddress(s.Address))
		if err != nil {
			t.Fatal(err)
		}
		if si.Deposit.Cmp(devchain.DefaultDeposit) != 0 || si.FundsRemaining.Cmp(devchain.DefaultReserve) != 0 {
			t.Fatalf("sender %d: deposit %s reserve %s, want %s and %s", i, si.Deposit, si.FundsRemaining, devchain.DefaultDeposit, devchain.DefaultReserve)
		}
	}
	// sender-3 had nothing at genesis: it holds what it was paid, less its
	// deposit and reserve and the gas of funding them.
	bal, err := eth.BalanceAt(ctx, acc.Senders[2].Address, nil)
	if err != nil {
		t.Fatal(err)
	}
	seven := new(big.Int).Mul(big.NewInt(7), devchain.Ether)
	if bal.Cmp(seven) >= 0 || bal.Cmp(new(big.Int).Sub(seven, devchain.Ether)) <= 0 {
		t.Fatalf("sender-3 balance %s, want a little under 7 ETH", bal)
	}
	if key, err := loadKey(info.RedeemerKeystore, info.RedeemerPasswordFile); err != nil || crypto.PubkeyToAddress(key.PublicKey) != acc.Redeemer.Address {
		t.Fatalf("redeemer keystore: %v", err)
	}

	// Rounds: the keeper initializes each one as the clock mines past it.
	start, err := p.LastInitializedRound(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "three more rounds initialized", func() bool {
		r, err := p.LastInitializedRound(ctx)
		return err == nil && r.Int64() >= start.Int64()+3
	})
	if strings.Contains(errOut.String(), "level=WARN") {
		t.Fatalf("the round keeper warned:\n%s", errOut.String())
	}
}

// TestDevchainDeployFlags: what is wrong with the settings is reported
// before any node is asked.
func TestDevchainDeployFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"devchain", "deploy"}, "--eth-url"},
		{[]string{"devchain", "deploy", "--eth-url", "http://127.0.0.1:1", "--funder-keystore", "k"}, "go together"},
		{[]string{"devchain", "deploy", "--eth-url", "http://127.0.0.1:1", "--round-length", "0"}, "--round-length"},
		{[]string{"devchain", "deploy", "--eth-url", "http://127.0.0.1:1", "extra"}, "no arguments"},
		{[]string{"devchain", "rounds", "--eth-url", "http://127.0.0.1:1"}, "--controller"},
		{[]string{"devchain", "rounds", "--eth-url", "http://127.0.0.1:1", "--controller", "nope"}, "not an address"},
		{[]string{"devchain"}, "no verb"},
	} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), tc.args, &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want an error naming %q", tc.args, err, tc.want)
		}
	}
}
