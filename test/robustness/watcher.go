package robustness

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

// Watcher lists a partition and watches it from the list's resourceVersion. When a watch ends
// (the server's timeout, a killed replica) it resumes from the last resourceVersion seen, on
// the next of its clients; a 410 ends the stream and it lists again.
type Watcher struct {
	Name      string
	Partition string
	Clients   []*Client // resumes rotate through them
	Bookmarks bool
	Traffic   *Traffic

	mu      sync.Mutex
	streams []Stream
	gone    int
}

// Run watches until ctx is done.
func (w *Watcher) Run(ctx context.Context) {
	next := 0
	for ctx.Err() == nil {
		c := w.Clients[next%len(w.Clients)]
		next++
		out, err := w.Traffic.ListOnce(c, w.Partition)
		if err != nil {
			time.Sleep(200 * time.Millisecond) // the replica is down: poll again
			continue
		}
		s := &Stream{Watcher: w.Name, Partition: w.Partition, StartRV: out.ListRV}
		gone := w.follow(ctx, s, &next)
		w.mu.Lock()
		w.streams = append(w.streams, *s)
		if gone {
			w.gone++
		}
		w.mu.Unlock()
	}
}

// follow watches and resumes until a 410 (true) or the end of the run.
func (w *Watcher) follow(ctx context.Context, s *Stream, next *int) bool {
	resource, ns := split(w.Partition)
	last := s.StartRV
	for attempt := 0; ctx.Err() == nil; attempt++ {
		if attempt > 0 {
			s.Resumes++
		}
		c := w.Clients[*next%len(w.Clients)]
		*next++
		timeout := int64(5 + rand.IntN(15)) // the server ends the watch: a resume every few seconds
		wi, err := c.res(resource).watch(ctx, ns, metav1.ListOptions{ResourceVersion: rvString(last),
			AllowWatchBookmarks: w.Bookmarks, TimeoutSeconds: &timeout})
		if apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
			return true
		}
		if err != nil {
			time.Sleep(200 * time.Millisecond) // the replica is down: poll again
			continue
		}
		gone := w.consume(wi, s, &last)
		wi.Stop()
		if gone {
			return true
		}
	}
	return false
}

func (w *Watcher) consume(wi watch.Interface, s *Stream, last *int64) (gone bool) {
	for ev := range wi.ResultChan() {
		if ev.Type == watch.Error {
			err := apierrors.FromObject(ev.Object)
			return apierrors.IsResourceExpired(err) || apierrors.IsGone(err)
		}
		it, ok := itemOf(ev.Object)
		if !ok {
			continue
		}
		if ev.Type == watch.Bookmark {
			it = Item{RV: it.RV}
		}
		s.Events = append(s.Events, Event{Type: string(ev.Type), Item: it})
		*last = max(*last, it.RV)
	}
	return false
}

// Streams are the finished streams and how many ended with a 410.
func (w *Watcher) Streams() ([]Stream, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Stream(nil), w.streams...), w.gone
}
