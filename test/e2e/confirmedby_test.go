package e2e

import (
	"strings"
	"testing"
)

// Through the aggregator, the server records the front-proxy user who confirmed a deletion.
func TestDeletionConfirmedByThroughAggregator(t *testing.T) {
	const name, ns = "confirmed-by", "garden-confirmedby"
	mustKubectl(t, "admin", "create", "namespace", ns)
	mustKubectl(t, "admin", "create", "rolebinding", "alice-project-member", "-n", ns,
		"--clusterrole=garden-apiserver:project-member", "--user=alice")
	mustKubectlStdin(t, "alice", `{"apiVersion":"core.gardener.cloud/v1beta1","kind":"Shoot","metadata":{"name":"`+name+`","namespace":"`+ns+`"},"spec":{"kubernetes":{"version":"1.34.1"}}}`,
		"create", "-f", "-")
	confirmedBy := func() string {
		return strings.TrimSpace(mustKubectl(t, "admin", "get", "shoot", name, "-n", ns,
			"-o", `jsonpath={.metadata.annotations.deletion\.gardener\.cloud/confirmed-by}`))
	}
	kubectlFails(t, "alice", []string{"delete", "shoot", name, "-n", ns}, "(Forbidden)", "confirmation.gardener.cloud/deletion=true")

	mustKubectl(t, "alice", "annotate", "shoot", name, "-n", ns, "confirmation.gardener.cloud/deletion=true")
	if got := confirmedBy(); got != "alice" {
		t.Fatalf("confirmed-by = %q, want alice", got)
	}
	// Another user cannot rewrite the record.
	mustKubectl(t, "admin", "annotate", "--overwrite", "shoot", name, "-n", ns, "deletion.gardener.cloud/confirmed-by=mallory")
	if got := confirmedBy(); got != "alice" {
		t.Fatalf("confirmed-by = %q after another user's overwrite, want alice", got)
	}
	mustKubectl(t, "alice", "delete", "shoot", name, "-n", ns)
}
