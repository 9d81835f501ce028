// workload-check: a Workload API client built on go-spiffe v2's workloadapi,
// for Trellis' end-to-end tests of trellis-agent. It fetches the caller's
// X509 context and verifies every SVID against the served bundles with
// go-spiffe's own x509svid.Verify, fetches a JWT-SVID and validates it both
// locally against the JWT bundles and through the agent's ValidateJWTSVID,
// then (with -watch N) waits for N further X509 context updates. It prints
// one JSON object and exits 0 only if every check passed.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/spiffe/go-spiffe/v2/svid/jwtsvid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"
)

type report struct {
	X509SVIDs  []string `json:"x509_svids"`
	JWTSubject string   `json:"jwt_subject"`
	Validated  string   `json:"validated_by_agent"`
	Updates    int      `json:"updates"`
	LastCount  int      `json:"last_svid_count"`
	Error      string   `json:"error,omitempty"`
}

type watcher struct {
	updates chan *workloadapi.X509Context
}

func (w watcher) OnX509ContextUpdate(c *workloadapi.X509Context) { w.updates <- c }
func (w watcher) OnX509ContextWatchError(error)                  {}

func main() {
	socket := flag.String("socket", "", "the Workload API socket path")
	audience := flag.String("audience", "trellis-test", "JWT-SVID audience")
	watch := flag.Int("watch", 0, "X509 context updates to wait for")
	timeout := flag.Duration("timeout", 30*time.Second, "overall deadline")
	flag.Parse()
	out := report{}
	err := run(*socket, *audience, *watch, *timeout, &out)
	if err != nil {
		out.Error = err.Error()
	}
	encoded, _ := json.Marshal(out)
	fmt.Println(string(encoded))
	if err != nil {
		os.Exit(1)
	}
}

func run(socket, audience string, watch int, timeout time.Duration, out *report) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	client, err := workloadapi.New(ctx, workloadapi.WithAddr("unix://"+socket))
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	defer client.Close()

	x509Context, err := client.FetchX509Context(ctx)
	if err != nil {
		return fmt.Errorf("FetchX509Context: %w", err)
	}
	for _, svid := range x509Context.SVIDs {
		if _, _, err := x509svid.Verify(svid.Certificates, x509Context.Bundles); err != nil {
			return fmt.Errorf("x509svid.Verify(%s): %w", svid.ID, err)
		}
		out.X509SVIDs = append(out.X509SVIDs, svid.ID.String())
	}

	jwt, err := client.FetchJWTSVID(ctx, jwtsvid.Params{Audience: audience})
	if err != nil {
		return fmt.Errorf("FetchJWTSVID: %w", err)
	}
	bundles, err := client.FetchJWTBundles(ctx)
	if err != nil {
		return fmt.Errorf("FetchJWTBundles: %w", err)
	}
	parsed, err := jwtsvid.ParseAndValidate(jwt.Marshal(), bundles, []string{audience})
	if err != nil {
		return fmt.Errorf("jwtsvid.ParseAndValidate: %w", err)
	}
	out.JWTSubject = parsed.ID.String()
	validated, err := client.ValidateJWTSVID(ctx, jwt.Marshal(), audience)
	if err != nil {
		return fmt.Errorf("ValidateJWTSVID: %w", err)
	}
	out.Validated = validated.ID.String()

	if watch > 0 {
		w := watcher{updates: make(chan *workloadapi.X509Context, 16)}
		go client.WatchX509Context(ctx, w)
		// The watch's first update is the current context.
		for out.Updates <= watch {
			select {
			case c := <-w.updates:
				out.Updates++
				out.LastCount = len(c.SVIDs)
			case <-ctx.Done():
				return fmt.Errorf("only %d of %d updates came", out.Updates-1, watch)
			}
		}
		out.Updates--
	}
	return nil
}
