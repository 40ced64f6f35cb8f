// Command devticket plays a broadcaster against `redeemer dev`: it reads the
// dev info file, signs a winning ticket from one of the dev senders for the
// current round and queues it over gRPC, as an orchestrator would forward it.
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"math/big"
	"os"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"redeemer/chain"
	"redeemer/rpc"
	"redeemer/rpc/pb"
)

type devInfo struct {
	EthRPCURL  string `json:"eth_rpc_url"`
	GRPCAddr   string `json:"grpc_addr"`
	GRPCTLS    bool   `json:"grpc_tls"`
	Controller string `json:"controller"`
	Recipient  string `json:"recipient"`
	Senders    []struct {
		Address    string `json:"address"`
		PrivateKey string `json:"private_key"`
	} `json:"senders"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "devticket:", err)
		os.Exit(1)
	}
}

func run() error {
	infoFile := flag.String("info-file", "redeemer-dev.json", "info file written by `redeemer dev --info-file`")
	sender := flag.Int("sender", 0, "index of the dev sender that signs")
	faceValue := flag.String("face-value", "1000000000000000", "face value in wei")
	expiresIn := flag.Int64("expires-in", 10, "blocks from now until the ticket's params expiration block")
	flag.Parse()

	blob, err := os.ReadFile(*infoFile)
	if err != nil {
		return err
	}
	var info devInfo
	if err := json.Unmarshal(blob, &info); err != nil {
		return fmt.Errorf("%s: %w", *infoFile, err)
	}
	if *sender < 0 || *sender >= len(info.Senders) {
		return fmt.Errorf("--sender %d: the info file has %d senders", *sender, len(info.Senders))
	}
	key, err := crypto.HexToECDSA(strings.TrimPrefix(info.Senders[*sender].PrivateKey, "0x"))
	if err != nil {
		return fmt.Errorf("sender key: %w", err)
	}
	fv, ok := new(big.Int).SetString(*faceValue, 10)
	if !ok || fv.Sign() <= 0 {
		return fmt.Errorf("--face-value %q is not a positive integer", *faceValue)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	eth, err := ethclient.DialContext(ctx, info.EthRPCURL)
	if err != nil {
		return err
	}
	defer eth.Close()
	p, err := chain.NewProtocol(ctx, eth, common.HexToAddress(info.Controller))
	if err != nil {
		return err
	}
	round, err := p.LastInitializedRound(ctx)
	if err != nil {
		return err
	}
	bh, err := p.BlockHashForRound(ctx, round)
	if err != nil {
		return err
	}
	head, err := eth.BlockNumber(ctx)
	if err != nil {
		return err
	}
	randBytes := crypto.Keccak256([]byte(time.Now().String()))
	m, hash, err := rpc.SignTicket(chain.Ticket{
		Recipient:              common.HexToAddress(info.Recipient),
		FaceValue:              fv,
		WinProb:                chain.MaxWinProb,
		SenderNonce:            uint32(time.Now().Unix()),
		CreationRound:          round.Int64(),
		CreationRoundBlockHash: bh,
		ParamsExpirationBlock:  big.NewInt(int64(head) + *expiresIn),
	}, key, new(big.Int).SetBytes(randBytes))
	if err != nil {
		return err
	}

	creds := insecure.NewCredentials()
	if info.GRPCTLS {
		// The dev server's certificate is self-signed; go-livepeer's client
		// does not verify it either.
		creds = credentials.NewTLS(&tls.Config{InsecureSkipVerify: true})
	}
	conn, err := grpc.NewClient(info.GRPCAddr, grpc.WithTransportCredentials(creds))
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := pb.NewTicketRedeemerClient(conn).QueueTicket(ctx, m); err != nil {
		return fmt.Errorf("QueueTicket: %w", err)
	}
	fmt.Println(hash.Hex())
	return nil
}
