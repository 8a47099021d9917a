// The node relay entry point; lands with issue 5.
return 0;
