// cancel-storm: a grpc-go client that starts streaming calls on the tsgrpc test
// server's e2e.Probe service and cancels each one once the server handler holds
// it (response headers or a first response arrived). grpc-go cancels with
// RST_STREAM(CANCEL) alone. The server side of the test checks what each handler saw.
//
//	cancel-storm -addr=127.0.0.1:PORT -mode=clientStream|serverStream|bidi -n=1000
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// bytesCodec sends and receives messages as raw bytes. Its name keeps the
// content-type application/grpc+proto, which the server accepts.
type bytesCodec struct{}

func (bytesCodec) Marshal(v any) ([]byte, error) { return *(v.(*[]byte)), nil }
func (bytesCodec) Unmarshal(data []byte, v any) error {
	*(v.(*[]byte)) = append([]byte(nil), data...)
	return nil
}
func (bytesCodec) Name() string { return "proto" }

var descs = map[string]*grpc.StreamDesc{
	"clientStream": {ClientStreams: true},
	"serverStream": {ServerStreams: true},
	"bidi":         {ClientStreams: true, ServerStreams: true},
}

var paths = map[string]string{
	"clientStream": "/e2e.Probe/ClientStream",
	"serverStream": "/e2e.Probe/ServerStream",
	"bidi":         "/e2e.Probe/Bidi",
}

// cancelOne starts one call, waits until the handler holds it, then cancels it.
func cancelOne(conn *grpc.ClientConn, mode string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	stream, err := conn.NewStream(ctx, descs[mode], paths[mode], grpc.ForceCodec(bytesCodec{}))
	if err != nil {
		return fmt.Errorf("new stream: %w", err)
	}
	empty := []byte{}
	if err := stream.SendMsg(&empty); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	switch mode {
	case "clientStream":
		if _, err := stream.Header(); err != nil {
			return fmt.Errorf("headers: %w", err)
		}
	case "serverStream":
		if err := stream.CloseSend(); err != nil {
			return fmt.Errorf("close send: %w", err)
		}
		fallthrough
	default:
		var reply []byte
		if err := stream.RecvMsg(&reply); err != nil {
			return fmt.Errorf("first response: %w", err)
		}
	}
	cancel()
	return nil
}

func main() {
	addr := flag.String("addr", "", "server host:port")
	mode := flag.String("mode", "bidi", "clientStream, serverStream or bidi")
	n := flag.Int("n", 1000, "calls to cancel")
	perConn := flag.Int("per_conn", 200, "calls per connection")
	concurrency := flag.Int("concurrency", 32, "calls in flight")
	flag.Parse()
	if _, ok := descs[*mode]; !ok || *addr == "" {
		fmt.Fprintln(os.Stderr, "usage: cancel-storm -addr=host:port -mode=clientStream|serverStream|bidi [-n=1000]")
		os.Exit(2)
	}
	var failures atomic.Int64
	var firstErr atomic.Value
	for done := 0; done < *n; done += *perConn {
		conn, err := grpc.NewClient("passthrough:///"+*addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			fmt.Fprintln(os.Stderr, "dial:", err)
			os.Exit(1)
		}
		batch := min(*perConn, *n-done)
		var next atomic.Int64
		var wg sync.WaitGroup
		for w := 0; w < min(*concurrency, batch); w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for next.Add(1) <= int64(batch) {
					if err := cancelOne(conn, *mode); err != nil {
						failures.Add(1)
						firstErr.CompareAndSwap(nil, err)
					}
				}
			}()
		}
		wg.Wait()
		conn.Close()
	}
	if f := failures.Load(); f > 0 {
		fmt.Fprintf(os.Stderr, "%d of %d calls failed before the cancel; first: %v\n", f, *n, firstErr.Load())
		os.Exit(1)
	}
	fmt.Printf("cancelled %d %s calls\n", *n, *mode)
}
