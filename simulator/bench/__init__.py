"""The load harness behind `smsgw bench`, by responsibility:

texts     what the phones text (mix, plates, padding) and how replies are recognised
settings  one load's parameters, bounded
tally     counters, latency percentiles, progress, the report's figures
gcwatch   this process's garbage-collector pauses
report    the report printed for people
driver    the load generator over a simulated world (`LoadGenerator`, `bench_world`)
config    the one builder of a gateway's config.toml for a simulated world
gateway   the gateway under test as a child process, and its storage
run       `smsgw bench` itself
against   `smsgw bench --against kannel`: kannel (the relay), smscload (the lean
          SMSC-side load generator process), replyapp (Kannel's minimal reply app)
"""
