using AngleSharp.Dom;
using Bunit;
using Microsoft.AspNetCore.Components;

namespace Dashboard.Web.Tests.Components;

/// <summary>
/// Finds an element and raises its event in one turn of the renderer's dispatcher. <c>cut.Find(...).Click()</c> in two
/// steps lets a render slip in between (MudTabs re-renders after its first render; live feeds, timers and async
/// loads render from other threads), and the click then names an event handler id that no longer exists
/// (<see cref="Bunit.Rendering.UnknownEventHandlerIdException"/>). As with bUnit's own <c>Click()</c>, the handler runs
/// up to its first incomplete await; wait for what it renders afterwards.
/// </summary>
internal static class DispatchExtensions
{
    public static void Dispatch<TComponent>(this IRenderedComponent<TComponent> cut, Func<IElement> find, Action<IElement> trigger)
        where TComponent : IComponent
    {
        ArgumentNullException.ThrowIfNull(cut);
        ArgumentNullException.ThrowIfNull(find);
        ArgumentNullException.ThrowIfNull(trigger);
        cut.InvokeAsync(() => trigger(find())).GetAwaiter().GetResult();
    }

    public static void Click<TComponent>(this IRenderedComponent<TComponent> cut, string selector)
        where TComponent : IComponent =>
        cut.Dispatch(() => cut.Find(selector), e => e.Click());

    public static void Change<TComponent, TValue>(this IRenderedComponent<TComponent> cut, string selector, TValue value)
        where TComponent : IComponent =>
        cut.Dispatch(() => cut.Find(selector), e => e.Change(value));

    public static void Input<TComponent, TValue>(this IRenderedComponent<TComponent> cut, string selector, TValue value)
        where TComponent : IComponent =>
        cut.Dispatch(() => cut.Find(selector), e => e.Input(value));

    public static void Submit<TComponent>(this IRenderedComponent<TComponent> cut, string selector)
        where TComponent : IComponent =>
        cut.Dispatch(() => cut.Find(selector), e => e.Submit());
}
