// The `pipeline` command; lands with issue 7.
return 0;
