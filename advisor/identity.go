package advisor

import (
	"slices"

	"github.com/cloudline/cloudline/cellwatch"
)

// A notebook's identity when the frontend does not name it. jupyter_server
// sets JPY_SESSION_NAME; papermill and nbclient do not, so every notebook
// they run is "" in the history. Pooling those would judge different
// notebooks' metrics as one model's, so without a name a run counts as the
// same notebook only when it ran the same cell: the same cell id (nbclient
// sends the notebook's cell ids) with the same code, or, without cell ids,
// the same sequence of cells from the run's start up to it.

// sameNotebook returns the records of past that belong to cur's notebook.
func sameNotebook(cur cellwatch.Record, past []cellwatch.Record) []cellwatch.Record {
	if cur.Notebook != "" {
		return past // judgeStable matches the name
	}
	bySession := map[string][]cellwatch.Record{}
	for _, r := range past {
		if r.Notebook == "" && !(r.Session == cur.Session && r.MsgID == cur.MsgID) {
			bySession[r.Session] = append(bySession[r.Session], r)
		}
	}
	mine := append(slices.Clone(bySession[cur.Session]), cur)
	want := runKey(mine, len(mine)-1)
	var out []cellwatch.Record
	for _, r := range past {
		if r.Notebook != "" {
			continue
		}
		if r.Session == cur.Session || sessionHas(bySession[r.Session], want) {
			out = append(out, r)
		}
	}
	return out
}

// runKey identifies cell i of a run: its cell id and code, or the code of
// every cell up to it when the frontend sent no cell id.
func runKey(run []cellwatch.Record, i int) string {
	r := run[i]
	if r.CellID != "" {
		return "id:" + r.CellID + "/" + r.CodeHash
	}
	key := "seq:"
	for _, x := range run[:i+1] {
		key += x.CodeHash + "/"
	}
	return key
}

func sessionHas(run []cellwatch.Record, key string) bool {
	for i := range run {
		if runKey(run, i) == key {
			return true
		}
	}
	return false
}
