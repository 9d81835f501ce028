// tiles-check: an independent C2SP tlog-tiles client for Trellis logs, on
// transparency-dev/tessera's client (with formats and merkle) and on
// golang.org/x/mod/sumdb/tlog's TileHashReader.
//
//	tiles-check URL VKEY CHECKPOINT_FILE...
//
// URL is the log's prefix (http://host:port/logs/<tree id>/); each file holds
// a checkpoint the log published, in ascending size order. For each one:
//   - the note verifies under VKEY (x/mod note) and parses (formats/log);
//   - inclusion proofs of sample leaves, built from tiles by tessera's
//     ProofBuilder and by x/mod's ProveRecord, verify against its root with
//     the leaf hashed from its entry bundle;
//   - consistency proofs from every earlier checkpoint, by both, verify, and
//     x/mod's TreeHash at each earlier size is that checkpoint's root.
//
// The live checkpoint must verify (tessera's FetchCheckpoint) and be at
// least as large as the last file. Finally every entry up to the largest
// size is read from the bundles and the tree rebuilt from them (merkle's
// compact range) must have its root. Prints "ok", then
// "entries <n> <sha256 over the entries' sha256s>", and exits 0; exits 1
// with the reason otherwise.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera/client"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "tiles-check: "+format+"\n", args...)
	os.Exit(1)
}

// xmodTiles reads hash tiles for x/mod's TileHashReader, by C2SP path
// (x/mod's own paths carry the tile height: tile/8/L/N).
type xmodTiles struct{ base string }

func (x xmodTiles) Height() int { return 8 }

func (x xmodTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		path := strings.Replace(t.Path(), "tile/8/", "tile/", 1)
		resp, err := http.Get(x.base + path)
		if err != nil {
			return nil, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %d", path, resp.StatusCode)
		}
		out[i] = body
	}
	return out, nil
}

func (x xmodTiles) SaveTiles([]tlog.Tile, [][]byte) {}

type checkpoint struct {
	size uint64
	root []byte
}

func main() {
	if len(os.Args) < 4 {
		fail("usage: tiles-check URL VKEY CHECKPOINT_FILE...")
	}
	ctx := context.Background()
	base := os.Args[1]
	verifier, err := note.NewVerifier(os.Args[2])
	if err != nil {
		fail("vkey: %v", err)
	}
	origin := verifier.Name()
	u, err := url.Parse(base)
	if err != nil {
		fail("url: %v", err)
	}
	fetcher, err := client.NewHTTPFetcher(u, nil)
	if err != nil {
		fail("fetcher: %v", err)
	}
	hasher := rfc6962.DefaultHasher

	var seen []checkpoint
	for _, file := range os.Args[3:] {
		raw, err := os.ReadFile(file)
		if err != nil {
			fail("%v", err)
		}
		n, err := note.Open(raw, note.VerifierList(verifier))
		if err != nil {
			fail("%s: note: %v", file, err)
		}
		cp := &log.Checkpoint{}
		if _, err := cp.Unmarshal([]byte(n.Text)); err != nil {
			fail("%s: checkpoint: %v", file, err)
		}
		if cp.Origin != origin {
			fail("%s: origin %q, want %q", file, cp.Origin, origin)
		}
		size, root := cp.Size, cp.Hash
		if size == 0 {
			seen = append(seen, checkpoint{size, root})
			continue
		}
		pb, err := client.NewProofBuilder(ctx, size, fetcher.ReadTile)
		if err != nil {
			fail("size %d: proof builder: %v", size, err)
		}
		var xroot tlog.Hash
		copy(xroot[:], root)
		reader := tlog.TileHashReader(tlog.Tree{N: int64(size), Hash: xroot},
			xmodTiles{base})
		for _, index := range []uint64{0, size / 3, size / 2, size - 1} {
			bundle, err := client.GetEntryBundle(ctx, fetcher.ReadEntryBundle,
				index/256, size)
			if err != nil {
				fail("size %d: bundle %d: %v", size, index/256, err)
			}
			if int(index%256) >= len(bundle.Entries) {
				fail("size %d: bundle %d holds %d entries", size, index/256,
					len(bundle.Entries))
			}
			entry := bundle.Entries[index%256]
			hashes, err := pb.InclusionProof(ctx, index)
			if err != nil {
				fail("size %d: inclusion proof of %d: %v", size, index, err)
			}
			if err := proof.VerifyInclusion(hasher, index, size,
				hasher.HashLeaf(entry), hashes, root); err != nil {
				fail("size %d: tessera inclusion of %d: %v", size, index, err)
			}
			record, err := tlog.ProveRecord(int64(size), int64(index), reader)
			if err != nil {
				fail("size %d: x/mod ProveRecord(%d): %v", size, index, err)
			}
			if err := tlog.CheckRecord(record, int64(size), xroot,
				int64(index), tlog.RecordHash(entry)); err != nil {
				fail("size %d: x/mod CheckRecord(%d): %v", size, index, err)
			}
		}
		for _, old := range seen {
			if old.size == 0 || old.size > size {
				continue
			}
			hashes, err := pb.ConsistencyProof(ctx, old.size, size)
			if err != nil {
				fail("consistency %d -> %d: %v", old.size, size, err)
			}
			if err := proof.VerifyConsistency(hasher, old.size, size, hashes,
				old.root, root); err != nil {
				fail("tessera consistency %d -> %d: %v", old.size, size, err)
			}
			var oldRoot tlog.Hash
			copy(oldRoot[:], old.root)
			tree, err := tlog.ProveTree(int64(size), int64(old.size), reader)
			if err != nil {
				fail("x/mod ProveTree %d -> %d: %v", old.size, size, err)
			}
			if err := tlog.CheckTree(tree, int64(size), xroot, int64(old.size),
				oldRoot); err != nil {
				fail("x/mod CheckTree %d -> %d: %v", old.size, size, err)
			}
			th, err := tlog.TreeHash(int64(old.size), reader)
			if err != nil || th != oldRoot {
				fail("x/mod TreeHash(%d) = %x, %v; want %x", old.size, th, err,
					old.root)
			}
		}
		seen = append(seen, checkpoint{size, root})
	}

	live, _, _, err := client.FetchCheckpoint(ctx, fetcher.ReadCheckpoint,
		verifier, origin)
	if err != nil {
		fail("live checkpoint: %v", err)
	}
	last := seen[len(seen)-1]
	if live.Size < last.size {
		fail("live checkpoint size %d < %d", live.Size, last.size)
	}

	// The whole tree, rebuilt from the entries.
	factory := compact.RangeFactory{Hash: hasher.HashChildren}
	tree := factory.NewEmptyRange(0)
	digest := sha256.New()
	for index := uint64(0); index < last.size; index += 256 {
		bundle, err := client.GetEntryBundle(ctx, fetcher.ReadEntryBundle,
			index/256, last.size)
		if err != nil {
			fail("bundle %d: %v", index/256, err)
		}
		for _, entry := range bundle.Entries {
			if err := tree.Append(hasher.HashLeaf(entry), nil); err != nil {
				fail("append: %v", err)
			}
			sum := sha256.Sum256(entry)
			digest.Write(sum[:])
		}
	}
	if tree.End() != last.size {
		fail("bundles hold %d entries, want %d", tree.End(), last.size)
	}
	rebuilt, err := tree.GetRootHash(nil)
	if err != nil {
		fail("root: %v", err)
	}
	if last.size > 0 && !bytes.Equal(rebuilt, last.root) {
		fail("root rebuilt from the entries %x, checkpoint %x", rebuilt,
			last.root)
	}
	fmt.Println("ok")
	fmt.Printf("entries %d %s\n", tree.End(), hex.EncodeToString(digest.Sum(nil)))
}
