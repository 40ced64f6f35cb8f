package main

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/google/uuid"

	"redeemer/chain/devchain"
	"redeemer/store"
)

// devInfo is what `redeemer dev` tells other programs (an orchestrator, a
// test, a ticket generator) about the chain and service it started.
type devInfo struct {
	EthRPCURL       string      `json:"eth_rpc_url"`
	GRPCAddr        string      `json:"grpc_addr"`
	GRPCTLS         bool        `json:"grpc_tls"`
	ChainID         uint64      `json:"chain_id"`
	Controller      string      `json:"controller"`
	TicketBroker    string      `json:"ticket_broker"`
	RoundsManager   string      `json:"rounds_manager"`
	BondingManager  string      `json:"bonding_manager"`
	Multicall       string      `json:"multicall"`
	Recipient       string      `json:"recipient"`
	RedeemerAccount string      `json:"redeemer_account"`
	Senders         []devSender `json:"senders"`
	DatabaseURL     string      `json:"database_url"`
	// The redeemer account as `redeemer serve` takes it.
	RedeemerKeystore     string `json:"redeemer_keystore"`
	RedeemerPasswordFile string `json:"redeemer_password_file"`
}

type devSender struct {
	Address    string `json:"address"`
	PrivateKey string `json:"private_key"`
}

type devFlags struct {
	serviceFlags
	redeem      redeemFlags
	databaseURL string
	ethRPCAddr  string
	blockTime   time.Duration
	roundLength uint64
	l1Ratio     uint64
	infoFile    string
	chainOnly   bool
}

func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f devFlags
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.databaseURL, "database-url", "postgres://postgres@127.0.0.1:5432/redeemer_dev?sslmode=disable",
		"PostgreSQL URL; the database is created if missing and migrated")
	fs.StringVar(&f.ethRPCAddr, "eth-rpc-addr", "127.0.0.1:8545", "loopback address of the dev chain's HTTP JSON-RPC (port 0 picks one)")
	fs.DurationVar(&f.blockTime, "block-time", time.Second, "mine a block this often")
	fs.Uint64Var(&f.roundLength, "round-length", 50, "L1 blocks per protocol round on the dev chain")
	fs.Uint64Var(&f.l1Ratio, "l1-ratio", 1,
		"dev chain blocks per L1 block, as on Arbitrum: rounds and due blocks count L1 numbers, served as each block's l1BlockNumber (1: a plain chain)")
	fs.StringVar(&f.infoFile, "info-file", "", "write the dev chain and service facts (addresses, keys, URLs) to this JSON file")
	fs.BoolVar(&f.chainOnly, "chain-only", false, "run only the dev chain and its JSON-RPC (for `redeemer serve` replicas against it)")
	f.serviceFlags.register(fs, "127.0.0.1:8935")
	f.redeem.register(fs, 1, 250*time.Millisecond)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log, err := f.logger(stderr)
	if err != nil {
		return err
	}
	if f.blockTime <= 0 {
		return fmt.Errorf("--block-time must be positive, got %s", f.blockTime)
	}
	if f.roundLength == 0 {
		return fmt.Errorf("--round-length must be positive")
	}

	if f.ethRPCAddr == "" {
		return fmt.Errorf("--eth-rpc-addr must be set: the service talks to the dev chain over JSON-RPC, as to any node")
	}

	dc, err := devchain.New(ctx, devchain.Options{RPCAddr: f.ethRPCAddr, RoundLength: f.roundLength, L1Ratio: f.l1Ratio, Logger: log})
	if err != nil {
		return fmt.Errorf("dev chain: %w", err)
	}
	defer dc.Close()
	mctx, stopMining := context.WithCancel(ctx)
	defer stopMining()
	go dc.Mine(mctx, f.blockTime)

	keystorePath, passwordPath, err := writeDevKeystore(f.dataDir, dc.Redeemer().Key)
	if err != nil {
		return err
	}
	publish := func(ctx context.Context, grpcAddr string) error {
		info, err := newDevInfo(ctx, dc, grpcAddr, &f)
		if err != nil {
			return err
		}
		info.RedeemerKeystore, info.RedeemerPasswordFile = keystorePath, passwordPath
		if f.chainOnly {
			info.DatabaseURL = ""
		}
		return publishDevInfo(log, stdout, f.infoFile, info)
	}
	if f.chainOnly {
		if err := publish(ctx, ""); err != nil {
			return err
		}
		<-ctx.Done()
		return nil
	}

	dbctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := store.EnsureDatabase(dbctx, log, f.databaseURL); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	if err := store.Migrate(dbctx, log, f.databaseURL, "up"); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	st, err := store.Open(dbctx, f.databaseURL)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	defer st.Close()
	defer logStopped(ctx, log, st)

	o, err := newOps(log, st, &f.serviceFlags)
	if err != nil {
		return err
	}
	node, err := dialNode(ctx, log, &f.serviceFlags, dc.RPCURL(), o)
	if err != nil {
		return err
	}
	defer node.Close()
	return runService(ctx, log, &f.serviceFlags, &f.redeem, serviceDeps{st: st, node: node,
		contracts: dc.Addresses(), recipient: dc.Recipient().Address, key: dc.Redeemer().Key, chainID: dc.ChainID()},
		o, func(addr string) error { return publish(ctx, addr) })
}

// writeDevKeystore saves the dev redeemer key as `redeemer serve` wants it:
// an encrypted keystore file and a password file. The password is fixed and
// printed: this is a dev chain key, worthless anywhere else.
func writeDevKeystore(dataDir string, key *ecdsa.PrivateKey) (keystorePath, passwordPath string, err error) {
	const password = "redeemer-dev"
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", "", fmt.Errorf("data dir: %w", err)
	}
	id, err := uuid.NewRandom()
	if err != nil {
		return "", "", err
	}
	blob, err := keystore.EncryptKey(&keystore.Key{Id: id, Address: crypto.PubkeyToAddress(key.PublicKey), PrivateKey: key},
		password, keystore.LightScryptN, keystore.LightScryptP)
	if err != nil {
		return "", "", fmt.Errorf("encrypt dev key: %w", err)
	}
	keystorePath = filepath.Join(dataDir, "redeemer-dev-keystore.json")
	passwordPath = filepath.Join(dataDir, "redeemer-dev-password.txt")
	if err := os.WriteFile(keystorePath, blob, 0o600); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(passwordPath, []byte(password+"\n"), 0o600); err != nil {
		return "", "", err
	}
	if keystorePath, err = filepath.Abs(keystorePath); err != nil {
		return "", "", err
	}
	passwordPath, err = filepath.Abs(passwordPath)
	return keystorePath, passwordPath, err
}

func newDevInfo(ctx context.Context, dc *devchain.Chain, grpcAddr string, f *devFlags) (*devInfo, error) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	chainID, err := dc.Client().ChainID(cctx)
	if err != nil {
		return nil, fmt.Errorf("dev chain id: %w", err)
	}
	a := dc.Addresses()
	info := &devInfo{
		EthRPCURL:       dc.RPCURL(),
		GRPCAddr:        grpcAddr,
		GRPCTLS:         !f.plaintext,
		ChainID:         chainID.Uint64(),
		Controller:      a.Controller.Hex(),
		TicketBroker:    a.TicketBroker.Hex(),
		RoundsManager:   a.RoundsManager.Hex(),
		BondingManager:  a.BondingManager.Hex(),
		Multicall:       dc.Multicall().Hex(),
		Recipient:       dc.Recipient().Address.Hex(),
		RedeemerAccount: dc.Redeemer().Address.Hex(),
		DatabaseURL:     withoutPassword(f.databaseURL),
	}
	for _, s := range dc.Senders() {
		info.Senders = append(info.Senders, devSender{
			Address:    s.Address.Hex(),
			PrivateKey: "0x" + hex.EncodeToString(crypto.FromECDSA(s.Key)),
		})
	}
	return info, nil
}

// publishDevInfo prints the facts and writes them atomically, so a program
// polling for the file never reads half of it.
func publishDevInfo(log *slog.Logger, stdout io.Writer, path string, info *devInfo) error {
	blob, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\n", blob)
	if path == "" {
		return nil
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(blob, '\n'), 0o600); err != nil {
		return fmt.Errorf("info file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("info file: %w", err)
	}
	abs, _ := filepath.Abs(path)
	log.Info("dev info written", "path", abs)
	return nil
}

// withoutPassword keeps a database URL usable by psql while leaving any
// password out of files and terminals.
func withoutPassword(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	u.User = url.User(u.User.Username())
	return u.String()
}
