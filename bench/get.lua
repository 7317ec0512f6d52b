-- wrk script: an authenticated read.
wrk.headers["Authorization"] = "Bearer " .. os.getenv("MPBENCH_KEY")
