package main

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"time"

	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/common"

	"redeemer/chain"
	"redeemer/store"
)

type serveFlags struct {
	serviceFlags
	redeem       redeemFlags
	databaseURL  string
	ethURL       string
	controller   string
	recipient    string
	keystore     string
	passwordFile string
	migrate      bool
	// databasePasswordFile is folded into databaseURL by validate.
	databasePasswordFile string
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f serveFlags
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.databaseURL, "database-url", "", "PostgreSQL URL (required)")
	fs.StringVar(&f.databasePasswordFile, "database-password-file", "", databasePasswordFileUsage)
	fs.StringVar(&f.ethURL, "eth-url", "", "Ethereum (Arbitrum) node JSON-RPC URL, http(s) or ws(s) (required)")
	fs.StringVar(&f.controller, "controller", "", "Livepeer Controller contract address (required)")
	fs.StringVar(&f.recipient, "recipient", "", "orchestrator address the service redeems tickets for (required)")
	fs.StringVar(&f.keystore, "keystore", "", "encrypted keystore file of the account that pays for redemptions (required)")
	fs.StringVar(&f.passwordFile, "password-file", "", "file holding the keystore password (required)")
	fs.BoolVar(&f.migrate, "migrate", false, "apply pending database migrations at start")
	f.serviceFlags.register(fs, "0.0.0.0:8935")
	f.redeem.register(fs, 3, time.Second)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log, err := f.logger(stderr)
	if err != nil {
		return err
	}
	recipient, controller, err := f.validate()
	if err != nil {
		return err
	}
	key, err := loadKey(f.keystore, f.passwordFile)
	if err != nil {
		return err
	}

	if f.migrate {
		if err := store.Migrate(ctx, log, f.databaseURL, "up"); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	st, err := store.Open(ctx, f.databaseURL)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	defer st.Close()
	defer logStopped(ctx, log, st)

	o, err := newOps(log, st, &f.serviceFlags)
	if err != nil {
		return err
	}
	node, err := dialNode(ctx, log, &f.serviceFlags, f.ethURL, o)
	if err != nil {
		return err
	}
	defer node.Close()
	pctx, cancel := context.WithTimeout(ctx, 3*f.ethTimeout)
	protocol, err := chain.NewProtocol(pctx, node.Eth(), controller)
	cancel()
	if err != nil {
		return fmt.Errorf("protocol contracts via controller %s: %w", controller.Hex(), err)
	}
	a := protocol.Addresses()
	log.Info("protocol contracts", "ticket_broker", a.TicketBroker.Hex(), "rounds_manager", a.RoundsManager.Hex(),
		"bonding_manager", a.BondingManager.Hex())
	chainID, err := node.ChainID(ctx)
	if err != nil {
		return fmt.Errorf("ethereum node chain id: %w", err)
	}
	subscribe, closeWS, err := subscribeHeads(ctx, log, &f.serviceFlags, node)
	if err != nil {
		return err
	}
	defer closeWS()
	return runService(ctx, log, &f.serviceFlags, &f.redeem, serviceDeps{st: st, node: node, subscribe: subscribe,
		contracts: a, recipient: recipient, key: key, chainID: chainID}, o, func(string) error { return nil })
}

// validate reports every bad setting at once, so an operator fixes them in
// one go rather than one restart at a time. It also puts the database
// password file's content into databaseURL.
func (f *serveFlags) validate() (recipient, controller common.Address, err error) {
	var errs []error
	if dsn, perr := withDatabasePassword(f.databaseURL, f.databasePasswordFile); perr != nil {
		errs = append(errs, perr)
	} else {
		f.databaseURL = dsn
	}
	required := map[string]string{
		"database-url": f.databaseURL, "eth-url": f.ethURL, "controller": f.controller,
		"recipient": f.recipient, "keystore": f.keystore, "password-file": f.passwordFile,
	}
	for _, name := range []string{"database-url", "eth-url", "controller", "recipient", "keystore", "password-file"} {
		if required[name] == "" {
			errs = append(errs, errRequired(name))
		}
	}
	if f.ethURL != "" {
		if u, perr := url.Parse(f.ethURL); perr != nil || u.Host == "" ||
			!map[string]bool{"http": true, "https": true, "ws": true, "wss": true}[u.Scheme] {
			errs = append(errs, fmt.Errorf("--eth-url %q must be an http(s) or ws(s) URL", redactURL(f.ethURL)))
		}
	}
	if f.controller != "" {
		if controller, err = parseAddress(f.controller); err != nil {
			errs = append(errs, fmt.Errorf("--controller: %w", err))
		}
	}
	if f.recipient != "" {
		if recipient, err = parseAddress(f.recipient); err != nil {
			errs = append(errs, fmt.Errorf("--recipient: %w", err))
		}
	}
	if err := f.ops.validate(); err != nil {
		errs = append(errs, err)
	}
	return recipient, controller, errors.Join(errs...)
}

func parseAddress(s string) (common.Address, error) {
	if !common.IsHexAddress(s) {
		return common.Address{}, fmt.Errorf("%q is not a 20-byte hex address", s)
	}
	a := common.HexToAddress(s)
	if a == (common.Address{}) {
		return common.Address{}, errors.New("the zero address is not allowed")
	}
	return a, nil
}

// loadKey decrypts the redemption account's keystore, so a wrong key or
// password stops the service before it accepts a single ticket. Both files
// may be systemd credentials (see secretPath).
func loadKey(keystorePath, passwordPath string) (*ecdsa.PrivateKey, error) {
	blob, err := os.ReadFile(secretPath(keystorePath))
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	pw, err := readSecret(passwordPath)
	if err != nil {
		return nil, fmt.Errorf("password file: %w", err)
	}
	key, err := keystore.DecryptKey(blob, pw)
	if err != nil {
		return nil, fmt.Errorf("keystore %s: cannot decrypt with the given password file: %w", keystorePath, err)
	}
	return key.PrivateKey, nil
}

// redactURL drops credentials and query strings (API keys often live there)
// before a node URL reaches a log line or an error.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparseable URL>"
	}
	u.User = nil
	u.RawQuery = ""
	return u.String()
}
