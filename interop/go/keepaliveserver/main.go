// A grpc-go server with keepalive settings from flags, serving grpc-go's
// interop TestService on 127.0.0.1. Tests use it to check tsgrpc's client
// against grpc-go's keepalive enforcement (GOAWAY "too_many_pings") and
// against a server process that freezes (SIGSTOP).
// It prints "listening on PORT" once it accepts connections.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/interop"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/keepalive"
)

func main() {
	port := flag.Int("port", 0, "port on 127.0.0.1 (0 picks one)")
	minTime := flag.Duration("min_time", 5*time.Minute, "enforcement: shortest interval allowed between client pings")
	permitWithoutStream := flag.Bool("permit_without_stream", false, "enforcement: allow client pings while no stream is open")
	flag.Parse()

	lis, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		log.Fatalf("listen: %v", err)
	}
	server := grpc.NewServer(grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
		MinTime:             *minTime,
		PermitWithoutStream: *permitWithoutStream,
	}))
	testgrpc.RegisterTestServiceServer(server, interop.NewTestServer())
	fmt.Fprintf(os.Stdout, "listening on %d\n", lis.Addr().(*net.TCPAddr).Port)
	if err := server.Serve(lis); err != nil {
		log.Fatalf("serve: %v", err)
	}
}
