from okx_auth_mcp.cli import main

raise SystemExit(main())
