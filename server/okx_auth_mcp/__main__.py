from okx_auth_mcp.cli.main import main

raise SystemExit(main())
