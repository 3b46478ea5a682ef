package searchloop_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/supernetd/supernetd/clients/go/examples/searchloop"
	"github.com/supernetd/supernetd/clients/go/supernetd"
)

func TestSearchLoopExportsAModelPerBudget(t *testing.T) {
	if os.Getenv("SUPERNETD_ADDR") == "" {
		if os.Getenv("SUPERNETD_REQUIRE_SERVER") != "" {
			t.Fatal("SUPERNETD_ADDR is not set")
		}
		t.Skip("SUPERNETD_ADDR is not set; run clients/run-tests.sh")
	}
	c, err := supernetd.DialEnv()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	out := t.TempDir()
	written, err := searchloop.Run(context.Background(), c, out, searchloop.Options{TrainSteps: 1, BatchSize: 8, Budgets: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(written) != 1 {
		t.Fatalf("want files for one budget, got %v", written)
	}
	for _, files := range written {
		found := false
		for _, f := range files {
			st, err := os.Stat(f)
			if err != nil || st.Size() == 0 {
				t.Errorf("%s: missing or empty (%v)", f, err)
			}
			found = found || filepath.Base(f) == "model.json"
		}
		if !found {
			t.Errorf("no model.json among %v", files)
		}
	}
}
