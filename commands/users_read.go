package commands

// The read-only users verbs are list (users_list.go) and show
// (users_show.go); they run on inv.ReadClient, so a replica can serve them.
