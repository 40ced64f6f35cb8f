package client_test

import (
	"context"
	"fmt"
	"log"
	"math/big"
	"net"

	"github.com/ethereum/go-ethereum/common"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"redeemer/rpc/client"
	"redeemer/rpc/pb"
)

// An orchestrator asks for a sender's max float before it accepts a ticket
// of some face value; after the first call the answer comes from the cache,
// which the redeemer's stream keeps current.
func Example() {
	addr, stop := startExampleRedeemer() // stands in for `redeemer serve`
	defer stop()

	// Against a real redeemer: client.Dial("redeemer.example:8935", client.Options{}),
	// which speaks TLS as go-livepeer's client does.
	c, err := client.Dial(addr, client.Options{}, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	sender := common.HexToAddress("0x1111111111111111111111111111111111111111")
	ctx := context.Background()
	float, err := c.MaxFloat(ctx, sender)
	if err != nil {
		log.Fatal(err)
	}
	faceValue := big.NewInt(1e15)
	fmt.Println("max float:", float, "wei; accept a ticket of", faceValue, "wei:", faceValue.Cmp(float) <= 0)
	fmt.Println("senders cached:", c.Cached())
	// Output:
	// max float: 2500000000000000 wei; accept a ticket of 1000000000000000 wei: true
	// senders cached: 1
}

type exampleRedeemer struct {
	pb.UnimplementedTicketRedeemerServer
}

var exampleFloat = big.NewInt(25e14)

func (exampleRedeemer) MaxFloat(context.Context, *pb.MaxFloatReq) (*pb.MaxFloatUpdate, error) {
	return &pb.MaxFloatUpdate{MaxFloat: exampleFloat.Bytes()}, nil
}

func (exampleRedeemer) MonitorMaxFloat(_ *pb.MaxFloatReq, s pb.TicketRedeemer_MonitorMaxFloatServer) error {
	if err := s.Send(&pb.MaxFloatUpdate{MaxFloat: exampleFloat.Bytes()}); err != nil {
		return err
	}
	<-s.Context().Done()
	return nil
}

func startExampleRedeemer() (addr string, stop func()) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := grpc.NewServer()
	pb.RegisterTicketRedeemerServer(srv, exampleRedeemer{})
	go srv.Serve(lis)
	return lis.Addr().String(), srv.Stop
}
