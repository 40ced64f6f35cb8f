package main

import (
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"redeemer/chain"
	"redeemer/chain/devchain"
)

// runDevchain is `redeemer devchain`: the dev contracts on a node of the
// operator's choosing (geth --dev, anvil, a testnet) instead of the embedded
// simulated chain, so the service can meet a real mempool and transport.
func runDevchain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runGroup(ctx, "devchain", map[string]subcommand{
		"deploy": {"deploy the dev contracts on a node, fund the dev accounts, write the info file", runDevchainDeploy},
		"rounds": {"initialize the dev RoundsManager's rounds as blocks pass, until stopped", runDevchainRounds},
	}, args, stdout, stderr)
}

type devchainDeployFlags struct {
	logFlags
	ethURL         string
	funderKeystore string
	funderPassword string
	fundETH        uint64
	roundLength    uint64
	senders        int
	dataDir        string
	infoFile       string
	grpcAddr       string
	keepRounds     bool
	keeperInterval time.Duration
	timeout        time.Duration
}

func runDevchainDeploy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f devchainDeployFlags
	fs := flag.NewFlagSet("devchain deploy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.ethURL, "eth-url", "", "JSON-RPC URL of the node to deploy on, http(s) or ws(s) (required)")
	fs.StringVar(&f.funderKeystore, "funder-keystore", "",
		"keystore of the account that pays the dev accounts; without it the node's own first account pays through eth_sendTransaction (geth --dev's unlocked developer account)")
	fs.StringVar(&f.funderPassword, "funder-password-file", "", "file holding the funder keystore's password")
	fs.Uint64Var(&f.fundETH, "fund-eth", 100, "ETH each dev account is brought up to; senders get their deposit and reserve on top")
	fs.Uint64Var(&f.roundLength, "round-length", 50, "blocks per protocol round")
	fs.IntVar(&f.senders, "senders", devchain.DefaultSenders, "number of funded dev senders (broadcasters)")
	fs.StringVar(&f.dataDir, "data-dir", "redeemer-data", "where the redeemer account's keystore and password file are written")
	fs.StringVar(&f.infoFile, "info-file", "", "write the chain facts (addresses, keys, URLs) to this JSON file, as `redeemer dev` does")
	fs.StringVar(&f.grpcAddr, "grpc-addr", "", "where `redeemer serve` will listen, recorded in the info file for programs such as cmd/devticket")
	fs.BoolVar(&f.keepRounds, "keep-rounds", false, "after deploying, stay in the foreground initializing rounds (as `redeemer devchain rounds` does)")
	fs.DurationVar(&f.keeperInterval, "keeper-interval", 250*time.Millisecond, "how often the round keeper looks at the head")
	fs.DurationVar(&f.timeout, "timeout", 2*time.Minute, "give up deploying after this long (a node that does not mine never answers)")
	f.logFlags.register(fs)
	registerConfigFlag(fs)
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return errArgs("devchain deploy", rest)
	}
	log, err := f.logger(stderr)
	if err != nil {
		return err
	}
	switch {
	case f.ethURL == "":
		return errRequired("eth-url")
	case (f.funderKeystore == "") != (f.funderPassword == ""):
		return fmt.Errorf("--funder-keystore and --funder-password-file go together")
	case f.roundLength == 0:
		return fmt.Errorf("--round-length must be positive")
	case f.senders <= 0:
		return fmt.Errorf("--senders must be positive, got %d", f.senders)
	case f.keeperInterval <= 0:
		return fmt.Errorf("--keeper-interval must be positive, got %s", f.keeperInterval)
	}

	eth, err := ethclient.DialContext(ctx, f.ethURL)
	if err != nil {
		return fmt.Errorf("node %s: %w", f.ethURL, err)
	}
	defer eth.Close()

	dctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	var payer devchain.Payer
	if f.funderKeystore != "" {
		key, err := loadKey(f.funderKeystore, f.funderPassword)
		if err != nil {
			return fmt.Errorf("funder: %w", err)
		}
		if payer, err = devchain.NewKeyPayer(dctx, eth, key); err != nil {
			return err
		}
	} else if payer, err = devchain.NewNodeAccountPayer(dctx, eth.Client()); err != nil {
		return err
	}
	opts := devchain.DeployOptions{RoundLength: f.roundLength, Senders: f.senders}
	balance := new(big.Int).Mul(new(big.Int).SetUint64(f.fundETH), devchain.Ether)
	log.Info("funding the dev accounts", "funder", payer.From(), "eth_each", f.fundETH)
	if err := devchain.FundAccounts(dctx, eth, payer, opts, balance); err != nil {
		return err
	}
	log.Info("deploying the dev contracts")
	d, err := devchain.Deploy(dctx, eth, opts, nil)
	if err != nil {
		return err
	}
	keystorePath, passwordPath, err := writeDevKeystore(f.dataDir, d.Accounts.Redeemer.Key)
	if err != nil {
		return err
	}
	info := deploymentInfo(f.ethURL, d)
	info.GRPCAddr = f.grpcAddr
	info.RedeemerKeystore, info.RedeemerPasswordFile = keystorePath, passwordPath
	if err := publishDevInfo(log, stdout, f.infoFile, info); err != nil {
		return err
	}
	if !f.keepRounds {
		return nil
	}
	k, err := devchain.NewRoundKeeper(ctx, eth, d.Addresses.RoundsManager, log)
	if err != nil {
		return err
	}
	log.Info("keeping rounds initialized", "rounds_manager", d.Addresses.RoundsManager)
	return k.Run(ctx, f.keeperInterval)
}

// deploymentInfo describes a deployment in the shape `redeemer dev
// --chain-only` prints, so every program that reads that file works against
// the node as well.
func deploymentInfo(ethURL string, d *devchain.Deployment) *devInfo {
	info := &devInfo{
		EthRPCURL:       ethURL,
		GRPCTLS:         true,
		ChainID:         d.ChainID.Uint64(),
		Controller:      d.Addresses.Controller.Hex(),
		TicketBroker:    d.Addresses.TicketBroker.Hex(),
		RoundsManager:   d.Addresses.RoundsManager.Hex(),
		BondingManager:  d.Addresses.BondingManager.Hex(),
		Multicall:       d.Multicall.Hex(),
		Recipient:       d.Accounts.Recipient.Address.Hex(),
		RedeemerAccount: d.Accounts.Redeemer.Address.Hex(),
	}
	for _, s := range d.Accounts.Senders {
		info.Senders = append(info.Senders, devSender{
			Address:    s.Address.Hex(),
			PrivateKey: "0x" + hex.EncodeToString(crypto.FromECDSA(s.Key)),
		})
	}
	return info
}

func runDevchainRounds(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		lf         logFlags
		ethURL     string
		controller string
		interval   time.Duration
	)
	fs := flag.NewFlagSet("devchain rounds", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&ethURL, "eth-url", "", "JSON-RPC URL of the node (required)")
	fs.StringVar(&controller, "controller", "", "Controller of a `redeemer devchain deploy` deployment (required)")
	fs.DurationVar(&interval, "keeper-interval", 250*time.Millisecond, "how often to look at the head")
	lf.register(fs)
	registerConfigFlag(fs)
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return errArgs("devchain rounds", rest)
	}
	log, err := lf.logger(stderr)
	if err != nil {
		return err
	}
	switch {
	case ethURL == "":
		return errRequired("eth-url")
	case controller == "":
		return errRequired("controller")
	case !common.IsHexAddress(controller):
		return fmt.Errorf("--controller %q is not an address", controller)
	case interval <= 0:
		return fmt.Errorf("--keeper-interval must be positive, got %s", interval)
	}
	eth, err := ethclient.DialContext(ctx, ethURL)
	if err != nil {
		return fmt.Errorf("node %s: %w", ethURL, err)
	}
	defer eth.Close()
	p, err := chain.NewProtocol(ctx, eth, common.HexToAddress(controller))
	if err != nil {
		return err
	}
	k, err := devchain.NewRoundKeeper(ctx, eth, p.Addresses().RoundsManager, log)
	if err != nil {
		return err
	}
	log.Info("keeping rounds initialized", "rounds_manager", p.Addresses().RoundsManager)
	return k.Run(ctx, interval)
}
