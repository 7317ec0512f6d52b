-- wrk script: POST a wrong code to the verify route (a row-locking write).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("MPBENCH_KEY")
wrk.body = '{"code":"000000"}'
