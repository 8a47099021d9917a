using Pipeline.Lambda;

namespace Pipeline.Functions.Hosting;

/// <summary>
/// Maps the <c>_HANDLER</c> value of a function to the code that builds its handler. Init
/// runs once per sandbox, so factories may read configuration and build clients.
/// </summary>
public sealed class HandlerRegistry
{
    private readonly Dictionary<string, Func<HandlerInitContext, CancellationToken, ValueTask<ILambdaHandler>>> _factories =
        new(StringComparer.Ordinal);

    /// <summary>The registered names, sorted.</summary>
    public IReadOnlyList<string> Names => [.. _factories.Keys.Order(StringComparer.Ordinal)];

    public HandlerRegistry Add(string name, Func<HandlerInitContext, ILambdaHandler> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        return Add(name, (init, _) => ValueTask.FromResult(factory(init)));
    }

    public HandlerRegistry Add(string name, Func<HandlerInitContext, CancellationToken, ValueTask<ILambdaHandler>> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(factory);
        if (!_factories.TryAdd(name, factory))
        {
            throw new ArgumentException($"A handler named '{name}' is already registered.", nameof(name));
        }

        return this;
    }

    /// <summary>
    /// Builds the handler <paramref name="name"/> names. A missing or unknown name throws a
    /// <see cref="LambdaInitException"/> (Runtime.NoSuchHandler) that lists the known names.
    /// </summary>
    public async ValueTask<ILambdaHandler> CreateAsync(string? name, HandlerInitContext init, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(init);
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new LambdaInitException(
                LambdaError.Types.NoSuchHandler,
                $"{LambdaEnvironmentVariables.Handler} is not set; set it to one of: {KnownNames()}.");
        }

        if (!_factories.TryGetValue(name, out var factory))
        {
            throw new LambdaInitException(
                LambdaError.Types.NoSuchHandler,
                $"{LambdaEnvironmentVariables.Handler} '{name}' is not a handler of this bootstrap; known handlers: {KnownNames()}.");
        }

        return await factory(init, cancellationToken).ConfigureAwait(false)
            ?? throw new LambdaInitException(LambdaError.Types.NoSuchHandler, $"The factory of handler '{name}' returned null.");
    }

    private string KnownNames() => _factories.Count == 0 ? "(none registered)" : string.Join(", ", Names);
}
