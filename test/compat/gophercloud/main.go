// The seed procedure through gophercloud v2's block-storage v3 packages,
// unchanged, against the gateway without Keystone: a ProviderClient holding
// a static token and a ServiceClient whose endpoint is the project's v3 URL.
// gophercloud sends no microversion header and uses the os-volume-transfer
// routes; it has no find-by-name, so the disk is looked up by name through
// the volume list first, as a user of it would.
//
//	A: finds disk 1 by name, creates a transfer of it and one of disk 2 by id,
//	   shows the first, lists the transfers (every page)
//	B: accepts the first
//	A and B list their volumes; A deletes the second transfer and lists again
//
// Inputs are compat_common.py's EVS_* variables (and EVS_VOLUME_NAME); the
// report on stdout has the same shape as the Python procedures'.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/transfers"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumes"
)

type step struct {
	Step  string         `json:"step"`
	OK    bool           `json:"ok"`
	Value any            `json:"value,omitempty"`
	Error map[string]any `json:"error,omitempty"`
}

type request struct {
	Method    string  `json:"method"`
	Path      string  `json:"path"`
	Status    int     `json:"status"`
	Token     bool    `json:"token"`
	Signed    bool    `json:"signed"`
	Version   *string `json:"api_version"`
	RequestID *string `json:"request_id"`
}

type report struct {
	Client   map[string]string `json:"client"`
	Steps    []step            `json:"steps"`
	Requests []request         `json:"requests"`
}

// recorder is an http.RoundTripper that notes every request and its answer.
type recorder struct {
	next     http.RoundTripper
	requests *[]request
}

func (r recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	path := req.URL.Path
	if req.URL.RawQuery != "" {
		path += "?" + req.URL.RawQuery
	}
	optional := func(v string) *string {
		if v == "" {
			return nil
		}
		return &v
	}
	*r.requests = append(*r.requests, request{
		Method:    req.Method,
		Path:      path,
		Status:    resp.StatusCode,
		Token:     req.Header.Get("X-Auth-Token") != "",
		Version:   optional(req.Header.Get("OpenStack-API-Version")),
		RequestID: optional(resp.Header.Get("X-OpenStack-Request-Id")),
	})
	return resp, nil
}

func env(name string) string {
	v, ok := os.LookupEnv(name)
	if !ok {
		fmt.Fprintf(os.Stderr, "missing environment variable %s\n", name)
		os.Exit(2)
	}
	return v
}

func describe(err error) map[string]any {
	var code gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &code) {
		return map[string]any{"type": "ErrUnexpectedResponseCode", "module": "gophercloud", "code": code.Actual, "message": string(code.Body), "text": err.Error()}
	}
	return map[string]any{"type": fmt.Sprintf("%T", err), "module": "gophercloud", "text": err.Error()}
}

func transferView(t *transfers.Transfer) map[string]any {
	v := map[string]any{"id": t.ID, "name": t.Name, "volume_id": t.VolumeID, "created_at": t.CreatedAt.Format(time.RFC3339Nano), "links": t.Links}
	if t.AuthKey != "" {
		v["auth_key"] = t.AuthKey
	}
	return v
}

func main() {
	ctx := context.Background()
	gateway := env("EVS_GATEWAY_URL")
	rep := report{Client: map[string]string{"name": "gophercloud", "version": "v2.16.0"}, Steps: []step{}, Requests: []request{}}
	record := func(name string, fn func() (any, error)) any {
		value, err := fn()
		if err != nil {
			rep.Steps = append(rep.Steps, step{Step: name, OK: false, Error: describe(err)})
			return nil
		}
		rep.Steps = append(rep.Steps, step{Step: name, OK: true, Value: value})
		return value
	}
	client := func(project, token string) *gophercloud.ServiceClient {
		provider := &gophercloud.ProviderClient{HTTPClient: http.Client{Transport: recorder{next: http.DefaultTransport, requests: &rep.Requests}}}
		provider.SetToken(token)
		return &gophercloud.ServiceClient{ProviderClient: provider, Endpoint: fmt.Sprintf("%s/v3/%s/", gateway, project), Type: "block-storage"}
	}
	a := client(env("EVS_PROJECT_A"), env("EVS_TOKEN_A"))
	b := client(env("EVS_PROJECT_B"), env("EVS_TOKEN_B"))

	volumeIDs := func(c *gophercloud.ServiceClient, opts volumes.ListOpts) (any, error) {
		pages, err := volumes.List(c, opts).AllPages(ctx)
		if err != nil {
			return nil, err
		}
		vols, err := volumes.ExtractVolumes(pages)
		ids := []string{}
		for _, v := range vols {
			ids = append(ids, v.ID)
		}
		return ids, err
	}

	found := record("find_volume_by_name", func() (any, error) {
		return volumeIDs(a, volumes.ListOpts{Name: env("EVS_VOLUME_NAME")})
	})
	var first *transfers.Transfer
	if ids, ok := found.([]string); ok && len(ids) == 1 {
		record("create_by_name", func() (any, error) {
			t, err := transfers.Create(ctx, a, transfers.CreateOpts{VolumeID: ids[0], Name: "compat gophercloud"}).Extract()
			if err == nil {
				first = t
				return transferView(t), nil
			}
			return nil, err
		})
	}
	var second *transfers.Transfer
	record("create_by_id", func() (any, error) {
		t, err := transfers.Create(ctx, a, transfers.CreateOpts{VolumeID: env("EVS_VOLUME_ID_2")}).Extract()
		if err == nil {
			second = t
			return transferView(t), nil
		}
		return nil, err
	})
	list := func() (any, error) {
		pages, err := transfers.List(a, transfers.ListOpts{}).AllPages(ctx)
		if err != nil {
			return nil, err
		}
		all, err := transfers.ExtractTransfers(pages)
		views := []map[string]any{}
		for i := range all {
			views = append(views, transferView(&all[i]))
		}
		return views, err
	}
	if first != nil {
		record("show", func() (any, error) {
			t, err := transfers.Get(ctx, a, first.ID).Extract()
			if err != nil {
				return nil, err
			}
			return transferView(t), nil
		})
		record("list", list)
		record("accept", func() (any, error) {
			t, err := transfers.Accept(ctx, b, first.ID, transfers.AcceptOpts{AuthKey: first.AuthKey}).Extract()
			if err != nil {
				return nil, err
			}
			return map[string]any{"id": t.ID, "volume_id": t.VolumeID}, nil
		})
	}
	record("volume_list_a", func() (any, error) { return volumeIDs(a, volumes.ListOpts{}) })
	record("volume_list_b", func() (any, error) { return volumeIDs(b, volumes.ListOpts{}) })
	if second != nil {
		record("delete", func() (any, error) { return true, transfers.Delete(ctx, a, second.ID).ExtractErr() })
	}
	record("list_at_end", list)

	if err := json.NewEncoder(os.Stdout).Encode(rep); err != nil {
		os.Exit(1)
	}
}
