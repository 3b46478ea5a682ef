// Command search-loop runs the searchloop example against $SUPERNETD_ADDR (default
// 127.0.0.1:50051), authenticating with $SUPERNETD_TOKEN when set.
//
//	go run ./examples/searchloop/cmd/search-loop [out-dir]
package main

import (
	"context"
	"log"
	"os"

	"github.com/supernetd/supernetd/clients/go/examples/searchloop"
	"github.com/supernetd/supernetd/clients/go/supernetd"
)

func main() {
	outDir := "supernetd-export"
	if len(os.Args) > 1 {
		outDir = os.Args[1]
	}
	c, err := supernetd.DialEnv()
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if _, err := searchloop.Run(context.Background(), c, outDir, searchloop.Options{TrainSteps: 3, BatchSize: 16, Budgets: 2}); err != nil {
		log.Fatal(err)
	}
}
