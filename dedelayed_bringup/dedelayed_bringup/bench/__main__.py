from dedelayed_bringup.bench.deploy import main

raise SystemExit(main())
