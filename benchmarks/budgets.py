"""The budgets the book promises on a 2-core CPU (issue: performance)."""

BUDGETS = {
    "quick_chapter_s": 60,      # every chapter, quick profile, cold
    "quick_total_s": 6 * 60,    # all chapters together, quick profile, cold
    "full_cold_s": 20 * 60,     # the whole book from a cold cache, full profile
    "full_warm_s": 30,          # a rebuild with a warm cache, full profile
    "full_chapter_s": 20 * 60 // 3,  # one page, full profile, cold: no page over a third of the whole
}
