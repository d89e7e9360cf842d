// Native reference server for the tsgrpc benchmarks: the bench.Echo service
// served as raw bytes, so no protoc step and no (de)serialization cost.
// Usage: echo-server -addr 127.0.0.1:0  (prints "PORT <n>" once listening).
package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/status"
)

// rawCodec passes message bytes through untouched. It is registered under
// the name "proto" so it is used for the default application/grpc subtype.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(d []byte, v any) error {
	*(v.(*[]byte)) = append([]byte(nil), d...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

// handle implements the same semantics as the Node servers in bench/servers:
// Unary/Bidi (and Orders.Echo) echo, ServerStream repeats the request N times (N = first 4
// bytes, big-endian), ClientStream replies with the 4-byte message count.
func handle(_ any, stream grpc.ServerStream) error {
	method, _ := grpc.MethodFromServerStream(stream)
	var msg []byte
	switch method {
	case "/bench.Echo/Unary", "/benchmsg.Orders/Echo":
		// Orders.Echo (bench/proto/orders.proto) is echoed as bytes too: the
		// reference for the protobuf scenario under ghz, without codec cost.
		if err := stream.RecvMsg(&msg); err != nil {
			return err
		}
		return stream.SendMsg(&msg)
	case "/bench.Echo/ServerStream":
		if err := stream.RecvMsg(&msg); err != nil {
			return err
		}
		n := 1
		if len(msg) >= 4 {
			n = int(binary.BigEndian.Uint32(msg))
		}
		for i := 0; i < n; i++ {
			if err := stream.SendMsg(&msg); err != nil {
				return err
			}
		}
		return nil
	case "/bench.Echo/ClientStream":
		count := uint32(0)
		for {
			if err := stream.RecvMsg(&msg); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				return err
			}
			count++
		}
		out := binary.BigEndian.AppendUint32(nil, count)
		return stream.SendMsg(&out)
	case "/bench.Echo/Bidi":
		for {
			if err := stream.RecvMsg(&msg); err != nil {
				if errors.Is(err, io.EOF) {
					return nil
				}
				return err
			}
			if err := stream.SendMsg(&msg); err != nil {
				return err
			}
		}
	}
	return status.Errorf(codes.Unimplemented, "unknown method %s", method)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	flag.Parse()
	encoding.RegisterCodec(rawCodec{})
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	srv := grpc.NewServer(
		grpc.UnknownServiceHandler(handle),
		grpc.MaxRecvMsgSize(16<<20),
		grpc.MaxSendMsgSize(16<<20),
	)
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		<-sig
		srv.Stop()
	}()
	fmt.Printf("PORT %d\n", lis.Addr().(*net.TCPAddr).Port)
	if err := srv.Serve(lis); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
