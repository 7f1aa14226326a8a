package commands

import (
	"bufio"
	"encoding/json"
	"io"

	goqr "github.com/piglig/go-qr"
)

// writeQR draws text as a QR code with Unicode half blocks (two module
// rows per line) in explicit black on white, so it scans on dark and light
// terminals alike, with the 4-module quiet zone the standard asks for.
func writeQR(w io.Writer, text string) error {
	qr, err := goqr.EncodeText(text, goqr.Low)
	if err != nil {
		return err
	}
	const quiet = 4
	n := qr.Size()
	dark := func(x, y int) bool {
		x, y = x-quiet, y-quiet
		return x >= 0 && y >= 0 && x < n && y < n && qr.Module(x, y)
	}
	bw := bufio.NewWriter(w)
	for y := 0; y < n+2*quiet; y += 2 {
		bw.WriteString("\x1b[30;47m")
		for x := 0; x < n+2*quiet; x++ {
			top, bottom := dark(x, y), dark(x, y+1)
			switch {
			case top && bottom:
				bw.WriteString("█")
			case top:
				bw.WriteString("▀")
			case bottom:
				bw.WriteString("▄")
			default:
				bw.WriteByte(' ')
			}
		}
		bw.WriteString("\x1b[0m\n")
	}
	return bw.Flush()
}

// writeJSONLine prints one object as a JSON Lines record.
func writeJSONLine(inv *Invocation, v any) error {
	enc := json.NewEncoder(inv.IO.Out)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
