using Pipeline.Testing;

// One moto_server for the whole integration test assembly; tests isolate by unique names.
[assembly: AssemblyFixture(typeof(MotoFixture))]
