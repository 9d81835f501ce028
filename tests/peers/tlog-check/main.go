// tlog-check: an independent reference for Trellis' C2SP formats, on
// golang.org/x/mod/sumdb/note and tlog and github.com/transparency-dev/formats.
//
//	tlog-check gen NAME              prints skey, vkey, cosignature vkey
//	tlog-check sign SKEY < text      prints the signed note
//	tlog-check verify VKEY < note    prints the verified text (exit 1: refused)
//	tlog-check cosign SKEY < note    prints the note with a cosignature/v1 added
//	tlog-check verify-cosig VKEY < note   exit 0 if the cosignature verifies
//	tlog-check tile-path L N W       x/mod's tile path in C2SP form (L -1: entries)
package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "tlog-check: "+format+"\n", args...)
	os.Exit(1)
}

func stdin() []byte {
	b, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail("read stdin: %v", err)
	}
	return b
}

func main() {
	if len(os.Args) < 3 {
		fail("usage: gen|sign|verify|cosign|verify-cosig|tile-path ...")
	}
	arg := os.Args[2]
	switch os.Args[1] {
	case "gen":
		skey, vkey, err := note.GenerateKey(rand.Reader, arg)
		if err != nil {
			fail("%v", err)
		}
		cosig, err := fnote.VKeyToCosignatureV1(vkey)
		if err != nil {
			fail("%v", err)
		}
		fmt.Printf("%s\n%s\n%s\n", skey, vkey, cosig)
	case "sign":
		s, err := note.NewSigner(arg)
		if err != nil {
			fail("%v", err)
		}
		msg, err := note.Sign(&note.Note{Text: string(stdin())}, s)
		if err != nil {
			fail("%v", err)
		}
		os.Stdout.Write(msg)
	case "verify":
		v, err := note.NewVerifier(arg)
		if err != nil {
			fail("%v", err)
		}
		n, err := note.Open(stdin(), note.VerifierList(v))
		if err != nil {
			fail("%v", err)
		}
		fmt.Print(n.Text)
	case "cosign":
		s, err := fnote.NewSignerForCosignatureV1(arg)
		if err != nil {
			fail("%v", err)
		}
		raw := stdin()
		// Keep the note's signatures (none verifiable here), add the
		// cosignature.
		_, err = note.Open(raw, note.VerifierList())
		var unverified *note.UnverifiedNoteError
		if !errors.As(err, &unverified) {
			fail("not a signed note: %v", err)
		}
		n := unverified.Note
		sigs := n.UnverifiedSigs
		out, err := note.Sign(&note.Note{Text: n.Text, UnverifiedSigs: sigs}, s)
		if err != nil {
			fail("%v", err)
		}
		os.Stdout.Write(out)
	case "verify-cosig":
		v, err := fnote.NewVerifierForCosignatureV1(arg)
		if err != nil {
			fail("%v", err)
		}
		if _, err := note.Open(stdin(), note.VerifierList(v)); err != nil {
			fail("%v", err)
		}
	case "tile-path":
		if len(os.Args) != 5 {
			fail("tile-path L N W")
		}
		l, err1 := strconv.Atoi(os.Args[2])
		n, err2 := strconv.ParseInt(os.Args[3], 10, 64)
		w, err3 := strconv.Atoi(os.Args[4])
		if err := errors.Join(err1, err2, err3); err != nil {
			fail("tile-path: %v", err)
		}
		p := tlog.Tile{H: 8, L: l, N: n, W: w}.Path()
		p = strings.Replace(p, "tile/8/data/", "tile/entries/", 1)
		p = strings.Replace(p, "tile/8/", "tile/", 1)
		fmt.Println(p)
	default:
		fail("unknown command %s", os.Args[1])
	}
}
