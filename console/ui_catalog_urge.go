package console

// The urge mark's texts (case_list.html, case_show.html).
func init() {
	addText(map[string]string{
		"urge.mark":  "催办 ×{n}",
		"urge.last":  "最近 {at}",
		"urge.title": "业主催办 {n} 次，最近一次 {at}",
	}, map[string]string{
		"urge.mark":  "Urged ×{n}",
		"urge.last":  "last {at}",
		"urge.title": "Urges by the owner: {n}, the last at {at}",
	})
}
