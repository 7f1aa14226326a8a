// Command b2badmin administers the Users area of a B2BinPay-style back office.
package main

import (
	"os"

	"github.com/b2badmin/b2badmin/commands"
)

func main() { os.Exit(commands.Main(os.Args[1:])) }
