package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/google/uuid"
)

// accountCommand is `redeemer account`; new keystores get go-ethereum's
// standard scrypt cost, as geth's own accounts do.
func accountCommand() command {
	return accountCommandWithCost(keystore.StandardScryptN, keystore.StandardScryptP)
}

// accountCommandWithCost takes the scrypt cost as a parameter because the
// production cost (256 MB, seconds of CPU) is what protects a stolen
// keystore file, while tests, under the race detector, cannot afford it.
func accountCommandWithCost(scryptN, scryptP int) command {
	return command{
		summary: "create or inspect the redemption account's keystore: new | show",
		run: func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
			return runGroup(ctx, "account", map[string]subcommand{
				"new": {"create a new account in an encrypted keystore file; prints its address",
					func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
						return runAccountNew(args, stdout, stderr, scryptN, scryptP)
					}},
				"show": {"print a keystore's address; with --password-file, also check that it decrypts",
					runAccountShow},
			}, args, stdout, stderr)
		},
	}
}

func runAccountNew(args []string, stdout, stderr io.Writer, scryptN, scryptP int) error {
	var keystorePath, passwordPath string
	flags := flag.NewFlagSet("account new", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.StringVar(&keystorePath, "keystore", "", "keystore file to create; an existing file is never overwritten (required)")
	flags.StringVar(&passwordPath, "password-file", "", "file holding the password that encrypts the key (required)")
	rest, err := parseArgs(flags, args)
	if err != nil {
		return err
	}
	var errs []error
	if keystorePath == "" {
		errs = append(errs, errRequired("keystore"))
	}
	if passwordPath == "" {
		errs = append(errs, errRequired("password-file"))
	}
	if len(rest) > 0 {
		errs = append(errs, errArgs("account new", rest))
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}

	// Checked before the (slow) encryption so the common mistake fails at
	// once; the exclusive create below is what actually guarantees it.
	if _, err := os.Lstat(keystorePath); err == nil {
		return fmt.Errorf("keystore %s already exists; refusing to overwrite it", keystorePath)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("keystore: %w", err)
	}
	password, err := readPassword(passwordPath)
	if err != nil {
		return err
	}

	key, err := crypto.GenerateKey()
	if err != nil {
		return fmt.Errorf("generate key: %w", err)
	}
	id, err := uuid.NewRandom()
	if err != nil {
		return fmt.Errorf("key id: %w", err)
	}
	address := crypto.PubkeyToAddress(key.PublicKey)
	blob, err := keystore.EncryptKey(&keystore.Key{Id: id, Address: address, PrivateKey: key}, password, scryptN, scryptP)
	if err != nil {
		return fmt.Errorf("encrypt key: %w", err)
	}
	if err := writeNewFile(keystorePath, blob); err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, address.Hex())
	return err
}

// writeNewFile creates path with data, failing if it exists, and syncs it:
// an account may be funded as soon as its address is printed, so its key
// must be on disk by then.
func writeNewFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("keystore %s already exists; refusing to overwrite it", path)
	}
	if err != nil {
		return fmt.Errorf("keystore: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// A partial file would hold no usable key but block a second try.
		os.Remove(path)
		return fmt.Errorf("keystore %s: %w", path, err)
	}
	return nil
}

// readPassword reads a password file as `serve` does (readSecret: without
// trailing line breaks) and refuses an empty password.
func readPassword(path string) (string, error) {
	pw, err := readSecret(path)
	if err != nil {
		return "", fmt.Errorf("password file: %w", err)
	}
	if pw == "" {
		return "", fmt.Errorf("password file %s is empty: an unencrypted key is not accepted", path)
	}
	return pw, nil
}

func runAccountShow(_ context.Context, args []string, stdout, stderr io.Writer) error {
	var keystorePath, passwordPath string
	flags := flag.NewFlagSet("account show", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.StringVar(&keystorePath, "keystore", "", "keystore file (required)")
	flags.StringVar(&passwordPath, "password-file", "", "file holding the keystore password; given, the key is decrypted to check it")
	rest, err := parseArgs(flags, args)
	if err != nil {
		return err
	}
	var errs []error
	if keystorePath == "" {
		errs = append(errs, errRequired("keystore"))
	}
	if len(rest) > 0 {
		errs = append(errs, errArgs("account show", rest))
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}

	blob, err := os.ReadFile(keystorePath)
	if err != nil {
		return fmt.Errorf("keystore: %w", err)
	}
	// The address is stored in clear beside the encrypted key, so it can be
	// shown without the password.
	var header struct {
		Address string `json:"address"`
	}
	if err := json.Unmarshal(blob, &header); err != nil {
		return fmt.Errorf("keystore %s is not a keystore JSON file: %w", keystorePath, err)
	}
	var stored *common.Address
	if header.Address != "" {
		if !common.IsHexAddress(header.Address) {
			return fmt.Errorf("keystore %s: address field %q is not an address", keystorePath, header.Address)
		}
		a := common.HexToAddress(header.Address)
		stored = &a
	}

	if passwordPath == "" {
		if stored == nil {
			return fmt.Errorf("keystore %s has no address field; give --password-file to derive it from the key", keystorePath)
		}
		_, err := fmt.Fprintln(stdout, stored.Hex())
		return err
	}
	// The same decryption `serve` does at start, so a success here means
	// serve will accept this keystore and password file.
	key, err := loadKey(keystorePath, passwordPath)
	if err != nil {
		return err
	}
	derived := crypto.PubkeyToAddress(key.PublicKey)
	if stored != nil && *stored != derived {
		return fmt.Errorf("keystore %s: its address field %s does not match its key's address %s",
			keystorePath, stored.Hex(), derived.Hex())
	}
	if _, err := fmt.Fprintln(stdout, derived.Hex()); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stderr, "keystore %s decrypts with the password file\n", keystorePath)
	return err
}
