package handlers_test

import (
	"bufio"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkUploadMemory runs 20 uploads of 20 MB at once against the real
// server over loopback and reports the process's peak resident memory and
// Go heap while they run, next to where they started. Files go to the store
// chunk by chunk, so the peak should not grow with the files' sizes.
// Run: go test -run '^$' -bench UploadMemory -benchtime 1x ./handlers/
func BenchmarkUploadMemory(b *testing.B) {
	const uploads, size = 20, 20 << 20
	for range b.N {
		ts := startFileServer(b, filepath.Join(b.TempDir(), "agora.db"), 25<<20)
		jar, _ := cookiejar.New(nil)
		client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := client.PostForm(ts.URL+"/signup", url.Values{"username": {"ann"}, "password": {"password-ann"}})
		if err != nil || res.StatusCode != http.StatusSeeOther {
			b.Fatalf("signup: %v %v", err, res)
		}
		res.Body.Close()

		runtime.GC()
		baseRSS, baseHeap := rss(b), heapInuse()
		var peakRSS, peakHeap atomic.Int64
		stop := make(chan struct{})
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			tick := time.NewTicker(25 * time.Millisecond)
			defer tick.Stop()
			for {
				if r := rss(b); r > peakRSS.Load() {
					peakRSS.Store(r)
				}
				if h := heapInuse(); h > peakHeap.Load() {
					peakHeap.Store(h)
				}
				select {
				case <-stop:
					return
				case <-tick.C:
				}
			}
		}()
		start := time.Now()
		var wg sync.WaitGroup
		errs := make(chan error, uploads)
		for i := range uploads {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- streamUpload(client, ts.URL+"/rooms/general/files", fmt.Sprintf("big-%d.bin", i), size)
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		close(stop)
		<-sampled
		close(errs)
		for err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
		if files, _ := ts.rowCounts(b); files != uploads {
			b.Fatalf("%d files stored, want %d", files, uploads)
		}
		mb := func(n int64) float64 { return float64(n) / (1 << 20) }
		b.ReportMetric(mb(baseRSS), "base-RSS-MB")
		b.ReportMetric(mb(peakRSS.Load()), "peak-RSS-MB")
		b.ReportMetric(mb(baseHeap), "base-heap-MB")
		b.ReportMetric(mb(peakHeap.Load()), "peak-heap-MB")
		b.ReportMetric(float64(uploads*size)/(1<<20)/elapsed.Seconds(), "MB/s")
	}
}

// streamUpload posts a multipart body made as it is sent, never held whole.
func streamUpload(client *http.Client, target, name string, size int) error {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		w, err := mw.CreateFormFile("file", name)
		if err != nil {
			pw.CloseWithError(err)
			return
		}
		buf := make([]byte, 64<<10)
		x := uint32(len(name))
		for sent := 0; sent < size; sent += len(buf) {
			for i := range buf {
				x = x*1664525 + 1013904223
				buf[i] = byte(x >> 24)
			}
			if _, err := w.Write(buf[:min(len(buf), size-sent)]); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.CloseWithError(mw.Close())
	}()
	req, err := http.NewRequest("POST", target, pr)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("HX-Request", "true")
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		body, _ := io.ReadAll(res.Body)
		return fmt.Errorf("upload %s: %d %s", name, res.StatusCode, body)
	}
	return nil
}

// rss is this process's resident memory, from /proc.
func rss(tb testing.TB) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func heapInuse() int64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}
