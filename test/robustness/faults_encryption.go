package robustness

import (
	"context"
	"fmt"
	"time"
)

// rotateKey adds a new secretbox key for reading, then makes it the write key.
func (f *Injector) rotateKey(ctx context.Context) (string, error) {
	return f.reencrypt(ctx, f.Encryption.AddSecretKey, f.Encryption.PromoteSecretKey)
}

// encryptShoots adds shoots to the configuration; once they are, it rotates the secret key.
func (f *Injector) encryptShoots(ctx context.Context) (string, error) {
	if f.Encryption.shoots == writing {
		return f.rotateKey(ctx)
	}
	return f.reencrypt(ctx, func() error { return f.Encryption.SetShoots(readOnly) },
		func() error { return f.Encryption.SetShoots(writing) })
}

// reencrypt makes a change in two steps: prepare (a new key or provider for reading) until
// every replica has it in effect, then the switch of the write key, and waits, with the
// traffic running, until every replica reports every object rewritten.
func (f *Injector) reencrypt(ctx context.Context, prepare, change func() error) (string, error) {
	before := f.migrated(ctx)
	for _, step := range []func() error{prepare, change} {
		if err := step(); err != nil {
			return "", err
		}
		hash, err := f.Encryption.Hash()
		if err != nil {
			return "", err
		}
		if err := f.waitMigrated(ctx, hash, 0); err != nil {
			return "", err
		}
	}
	hash, _ := f.Encryption.Hash()
	return fmt.Sprintf("config %s…: %d objects rewritten", hash[:15], f.migrated(ctx)-before), nil
}

// kmsRotation makes KMS v2 the write provider (once), then gives the plugin a new key ID.
func (f *Injector) kmsRotation(ctx context.Context) (string, error) {
	detail := ""
	if f.Encryption.kms != writing {
		d, err := f.reencrypt(ctx, func() error { return f.Encryption.SetKMS(readOnly) },
			func() error { return f.Encryption.SetKMS(writing) })
		if err != nil {
			return "", fmt.Errorf("switching to KMS: %w", err)
		}
		detail = "switched to KMS v2 (" + d + "); "
	}
	hash, err := f.Encryption.Hash()
	if err != nil {
		return "", err
	}
	before := f.migrated(ctx)
	f.kmsKeys++
	id := fmt.Sprintf("robustness-key-%d", f.kmsKeys+1)
	if err := f.KMS.AddKey(id, nil); err != nil {
		return "", err
	}
	// The servers ask the plugin for its key ID every 20 s at most.
	if err := f.waitMigrated(ctx, hash, before+1); err != nil {
		return "", err
	}
	return detail + fmt.Sprintf("key ID %s: %d objects rewritten", id, f.migrated(ctx)-before), nil
}

// migrated is the number of objects the replicas rewrote since they started (a restarted
// replica starts from 0, so this is a lower bound).
func (f *Injector) migrated(ctx context.Context) int64 {
	var n int64
	for _, c := range f.Admin {
		st, err := ReadEncryptionStatus(ctx, c.cs)
		if err != nil {
			continue
		}
		for _, r := range st.Resources {
			n += r.Migrated
		}
	}
	return n
}

// waitMigrated polls /encryption-status of every replica until all have the configuration
// with hash in effect and report all objects migrated (and, with minMigrated, at least that
// many rewrites in total), for at most two minutes.
func (f *Injector) waitMigrated(ctx context.Context, hash string, minMigrated int64) error {
	deadline := time.Now().Add(2 * time.Minute)
	last := "no answer"
	for time.Now().Before(deadline) && ctx.Err() == nil {
		done := true
		for _, c := range f.Admin {
			st, err := ReadEncryptionStatus(ctx, c.cs)
			switch {
			case err != nil:
				done, last = false, err.Error()
			case st.ConfigHash != hash || !st.AllMigrated || !st.ReplicasAgree:
				done, last = false, fmt.Sprintf("%s: hash %s allMigrated %v replicasAgree %v", c.Name, st.ConfigHash, st.AllMigrated, st.ReplicasAgree)
			}
		}
		if done && (minMigrated == 0 || f.migrated(ctx) >= minMigrated) {
			return nil
		}
		time.Sleep(500 * time.Millisecond) // polling the status
	}
	return fmt.Errorf("encryption not migrated within 2 minutes (last: %s)", last)
}
