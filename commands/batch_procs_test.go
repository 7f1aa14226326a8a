package commands

import (
	"runtime"
	"testing"
)

// A batch that commits line by line runs on one processor and gives the
// setting back when it ends; a GOMAXPROCS the user set is never changed.
func TestOneProcessorRestores(t *testing.T) {
	keepProcessors = false
	defer func() { keepProcessors = true }()
	prev := runtime.GOMAXPROCS(3)
	defer runtime.GOMAXPROCS(prev)
	t.Setenv("GOMAXPROCS", "")
	restore := oneProcessor()
	if n := runtime.GOMAXPROCS(0); n != 1 {
		t.Fatalf("during the batch GOMAXPROCS = %d, want 1", n)
	}
	restore()
	if n := runtime.GOMAXPROCS(0); n != 3 {
		t.Fatalf("after the batch GOMAXPROCS = %d, want 3 back", n)
	}
	t.Setenv("GOMAXPROCS", "3")
	restore = oneProcessor()
	if n := runtime.GOMAXPROCS(0); n != 3 {
		t.Fatalf("with GOMAXPROCS set by the user it became %d, want 3", n)
	}
	restore()
}
